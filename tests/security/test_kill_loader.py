"""Kill the loading process mid-batch: nothing partial remains, and a rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg

from ingestion.loader import ingest_file
from salesops.benchmark import write_leads_csv
from tests.conftest import query

LOADER = ("import sys; from ingestion.loader import ingest_file; "
          "ingest_file(sys.argv[1], 'ad_leads', sys.argv[2])")


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_loader_leaves_nothing_and_rerun_completes(db_url, tmp_path):
    path = tmp_path / "ad_leads_big.csv"
    write_leads_csv(path, 400_000)
    dbname = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    proc = subprocess.Popen([sys.executable, "-c", LOADER, db_url, str(path)],
                            cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: query(db_url, "select 1 from pg_stat_activity where datname = %s"
                                        " and state = 'active' and query ilike 'copy %%raw%%ad_leads%%'",
                                (dbname,)), 60, "the COPY to start")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the loader finished before it could be killed"
    _wait_for(lambda: not query(db_url, "select 1 from pg_stat_activity where datname = %s"
                                        " and query ilike 'copy %%'", (dbname,)), 30, "the backend to exit")

    assert query(db_url, "select count(*) from raw.ad_leads") == [(0,)]
    assert query(db_url, "select count(*) from ops.rejected_rows") == [(0,)]
    assert query(db_url, "select status from ops.ingestion_batches") == [("running",)]

    rerun = ingest_file(db_url, "ad_leads", str(path))

    assert rerun.status == "loaded"
    assert rerun.rows_in == 400_000 == rerun.rows_loaded + rerun.rows_rejected
    assert query(db_url, "select count(*) from raw.ad_leads") == [(rerun.rows_loaded,)]
    statuses = query(db_url, "select status, error from ops.ingestion_batches order by batch_id")
    assert [s for s, _ in statuses] == ["interrupted", "loaded"]
    assert "none of its rows were kept" in statuses[0][1]
