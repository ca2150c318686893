"""The ingestion DAG, executed for real with dag.test() on a small generated dataset."""

from __future__ import annotations

import ast
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from salesops import airflow_runtime
from tests.conftest import query

HEAVY = ("pandas", "pyarrow", "numpy", "great_expectations", "mlflow", "sklearn", "psycopg", "dbt")
DAG_FILES = sorted(airflow_runtime.DAGS_FOLDER.glob("*.py"))


def test_dags_import_without_errors():
    bag = airflow_runtime.dagbag()
    assert not bag.import_errors
    assert "salesops_ingest" in bag.dag_ids
    dag = bag.get_dag("salesops_ingest")
    assert {"prepare_warehouse", "discover_files", "load_file", "all_files_loaded"} <= set(dag.task_ids)
    publishers = [t for t in dag.task_ids if t.startswith("publish_")]
    assert len(publishers) == 8


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_import_nothing_heavy_at_top_level(dag_file: Path):
    """Parsing a DAG file must not import what only task bodies need (the scheduler parses often)."""
    probe = (
        "import sys, runpy\n"
        "from salesops import airflow_runtime; airflow_runtime.configure()\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"runpy.run_path({str(dag_file)!r})\n"
        f"print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    tree = ast.parse(dag_file.read_text())
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module or "") if isinstance(n, ast.ImportFrom) else n.names[0].name for n in top_level}
    assert not {n.split(".")[0] for n in names} & set(HEAVY)


def _records_in(path: Path) -> int:
    """An independent count of a landing file's records (not the loader's reader)."""
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        import openpyxl

        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        return sum(1 for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)) - 1
    for encoding in ("utf-16", "utf-8-sig", "gb18030"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if path.suffix == ".jsonl":
        return sum(1 for line in text.splitlines() if line.strip())
    dialect = "excel-tab" if path.suffix == ".tsv" else "excel"
    return sum(1 for row in csv.reader(io.StringIO(text, newline=""), dialect) if row) - 1


@pytest.fixture(scope="module")
def landing(tmp_path_factory, server_url):
    from ingestion.demo import generate
    from salesops.config import maven_export_dir

    folder = tmp_path_factory.mktemp("landing")
    generate(folder, scale=0.1, seed=7, maven_dir=maven_export_dir())
    return folder


def test_ingest_dag_loads_every_file_and_publishes_assets(landing, server_url, monkeypatch):
    monkeypatch.setenv("SALESOPS_LANDING_URI", str(landing))
    from ingestion.demo import CHANNELS

    # every channel's files (targets/ is finance's, split into quotas by the forecast DAG)
    files = sorted(p for ch in CHANNELS for p in (landing / ch).rglob("*") if p.is_file())
    assert (landing / "targets" / "targets.csv").is_file()

    first = airflow_runtime.run_dag("salesops_ingest")

    assert first.state == "success"
    states = {(ti.task_id, ti.map_index): ti.state for ti in first.get_task_instances()}
    assert sum(1 for (task, _), s in states.items() if task == "load_file" and s == "success") == len(files)
    batches = query(server_url, "select source_file, status, rows_in, rows_loaded, rows_rejected, raw_table"
                                " from ops.ingestion_batches where source_file like %s", (f"{landing}%",))
    assert sorted(b[0] for b in batches) == sorted(str(f) for f in files)
    for source, status, rows_in, loaded, rejected, table in batches:
        assert status == "loaded"
        assert rows_in == _records_in(Path(source)) == loaded + rejected, source
        landed = query(server_url, f"select count(*) from {table} join ops.ingestion_batches"
                                   " on batch_id = _batch_id where source_file = %s", (source,))
        assert landed == [(loaded,)]
        kept = query(server_url, "select count(*) from ops.rejected_rows where source_file = %s", (source,))
        assert kept == [(rejected,)]

    events = _asset_events(first.run_id)
    channels = {p.parent.name for p in files}
    assert set(events) == {f"salesops://raw/{c}" for c in channels}
    activities = events["salesops://raw/activities"]
    assert activities["rows_loaded"] == sum(b[3] for b in batches if b[5] == "raw.activities")

    second = airflow_runtime.run_dag("salesops_ingest")

    assert second.state == "success"
    again = query(server_url, "select count(*) from ops.ingestion_batches where source_file like %s",
                  (f"{landing}%",))
    assert again == [(len(files),)]
    assert _asset_events(second.run_id) == {}


def _asset_events(run_id: str) -> dict[str, dict]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return {event.asset.uri: json.loads(json.dumps(event.extra)) for event in rows}
