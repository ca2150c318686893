"""`salesops quotas load`: targets split into rep quotas on the demo warehouse, exact to the cent,
shared as documented, and shown with attainment in the performance mart after a build."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from click.testing import CliRunner

from salesops.cli import main
from tests.conftest import copy_of, query

TARGETS = ("level,key,period,target\n"
           "company,all,2017-09,1000000.00\n"
           "region,West,2017-Q4,\"1,500,000.01\"\n"   # Oct, Nov, Dec of the West reps
           "region,East,2017-11,250000\n"
           "rep,{rep},2017-12,90000\n")


@pytest.fixture()
def quota_db(server_url, demo_build, monkeypatch):
    from salesops.access import apply_grants
    from salesops.transform import ensure_manifest, pii_columns

    with copy_of(server_url, demo_build[0]) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_grants(conn, pii_columns(ensure_manifest()))
        monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", url)
        yield url


def _east_rep(url: str) -> str:
    return query(url, "select rep_name from marts.rep_performance_monthly where region = 'East'"
                      " and is_known_rep order by rep_name limit 1")[0][0]


def test_targets_become_quotas_that_add_up_and_reach_the_performance_mart(quota_db, tmp_path):
    rep = _east_rep(quota_db)
    source = tmp_path / "targets.csv"
    source.write_text(TARGETS.format(rep=rep))
    result = CliRunner().invoke(main, ["quotas", "load", str(source)])
    assert result.exit_code == 0, result.output
    assert "company all 2017-09: 1,000,000.00 -> 35 rep(s)" in result.output

    def total(where: str, *params) -> Decimal:
        return query(quota_db, f"select sum(quota) from finance.quotas where {where}", params)[0][0]

    assert total("target_level = 'company'") == Decimal("1000000.00")
    assert total("target_key = 'West'") == Decimal("1500000.01")
    for month in ("2017-10-01", "2017-11-01", "2017-12-01"):  # a quarter: three equal months, to the cent
        assert total("target_key = 'West' and month = %s", month) in (Decimal("500000.00"),
                                                                     Decimal("500000.01"))
    assert total("target_key = 'East'") == Decimal("250000.00")
    assert query(quota_db, "select quota, method from finance.quotas where target_level = 'rep'") == [
        (Decimal("90000.00"), "loaded")]

    # Historic share: each rep's won revenue in the 12 months before September, computed here.
    won = dict(query(quota_db, "select rep_name, sum(amount_usd) from marts.fct_opportunities where is_won"
                               " and closed_month between '2016-09-01' and '2017-08-01' group by 1"))
    quotas = query(quota_db, "select rep_name, quota, method from finance.quotas"
                             " where target_level = 'company'")
    assert len(quotas) == 35
    with_history = {r: q for r, q, m in quotas if m == "historic_share"}
    ramping = {r: q for r, q, m in quotas if m == "ramp"}
    assert set(with_history) == {r for r in won if won[r] > 0} & {r for r, _, _ in quotas}
    whole = sum(won[r] for r in with_history) + Decimal("0.25") * sum(won[r] for r in with_history) / len(
        with_history) * len(ramping)
    for name, quota in with_history.items():
        assert abs(quota - Decimal("1000000.00") * won[name] / whole) <= Decimal("0.01"), name
    for quota in ramping.values():  # a new rep: a quarter of the average weight
        average = Decimal("1000000.00") * sum(won[r] for r in with_history) / len(with_history) / whole
        assert abs(quota - Decimal("0.25") * average) <= Decimal("0.01")

    from salesops.dbt_project import run_dbt

    run_dbt(["build", "--select", "rep_performance_monthly"], quota_db)
    [(quota, won_revenue, attainment)] = query(
        quota_db, "select quota, won_revenue, attainment from marts.rep_performance_monthly"
                  " where rep_name = %s and month = '2017-12-01'", (rep,))
    assert quota == Decimal("90000.00")
    assert attainment == (won_revenue / quota).quantize(Decimal("0.0001"))


def test_a_rep_covered_twice_refuses_the_file_and_loads_nothing(quota_db, tmp_path):
    rep = _east_rep(quota_db)
    source = tmp_path / "targets.csv"
    source.write_text(TARGETS.format(rep=rep) + f"rep,{rep},2017-11,5000\n")
    result = CliRunner().invoke(main, ["quotas", "load", str(source)])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {source}, line 6: {rep} in 2017-11 is also covered by line 4")
    assert query(quota_db, "select (select count(*) from finance.quotas),"
                           " (select count(*) from finance.quota_loads)") == [(0, 0)]


def test_target_files_in_the_landing_zone_load_once_each_and_a_bad_one_is_refused_alone(quota_db, tmp_path):
    """What the forecast DAG's load_targets does: every new file in <landing>/targets/ is split
    into quotas; a refused file names its line and stops no other; a loaded file is not loaded
    again until its content changes."""
    from ml.forecast import quotas

    folder = tmp_path / quotas.TARGETS_FOLDER
    folder.mkdir()
    (folder / "a_company.csv").write_text("level,key,period,target\ncompany,all,2017-09,1000000.00\n")
    (folder / "b_bad.csv").write_text("level,key,period,target\nteam,X,2017-10,5\n")
    (folder / "c_rep.csv").write_text(f"level,key,period,target\nrep,{_east_rep(quota_db)},2017-12,90000\n")
    (folder / "notes.txt").write_text("not a targets file\n")
    (folder / "d_link.csv").symlink_to(folder / "a_company.csv")  # links are not followed

    out = quotas.load_new_targets(quota_db, str(tmp_path))
    assert [r["file"] for r in out["loaded"]] == ["a_company.csv", "c_rep.csv"]
    [refused] = out["refused"]
    assert refused["file"] == "b_bad.csv" and "b_bad.csv, line 2: level" in refused["error"]
    assert query(quota_db, "select sum(quota) from finance.quotas") == [(Decimal("1090000.00"),)]
    assert query(quota_db, "select count(*) from finance.quota_loads") == [(2,)]

    again = quotas.load_new_targets(quota_db, str(tmp_path))  # nothing new but the refused file
    assert again["loaded"] == [] and [r["file"] for r in again["refused"]] == ["b_bad.csv"]
    (folder / "b_bad.csv").unlink()
    (folder / "a_company.csv").write_text("level,key,period,target\ncompany,all,2017-09,1200000.00\n")
    changed = quotas.load_new_targets(quota_db, str(tmp_path))
    [reloaded] = changed["loaded"]
    assert reloaded["file"] == "a_company.csv" and reloaded["replaced"] == 35
    assert query(quota_db, "select sum(quota) from finance.quotas") == [(Decimal("1290000.00"),)]
    assert quotas.new_target_files(quota_db, str(tmp_path)) == []
    assert quotas.new_target_files(quota_db, "s3://bucket/landing") == []  # remote: `salesops quotas load`
