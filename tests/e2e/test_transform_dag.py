"""The transform DAG, executed for real with dag.test(): ingest → GX raw gate → dbt (Cosmos
watcher: one `dbt build`, a task per node) → GX marts gate → grants → marts Asset, on a small
generated dataset in a database of its own.

Then things are broken on purpose: a mart value (the marts gate fails, grants and the Asset
do not happen), a model (its task fails, what is built on it does not run, the rest does)
and a raw value (the raw gate fails, no dbt task runs).

Nothing here imports Airflow at module level: ``airflow_runtime`` configures it first.
"""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import psycopg
import psycopg.sql
import pytest

from salesops import airflow_runtime, pipeline, progress, transform
from salesops.dbt_project import project_dir
from salesops.quality.suites import mart_suites
from tests.conftest import query, scratch_database

DAG_ID = "salesops_transform"
MARTS_URI = "salesops://marts/"  # Airflow normalises salesops://marts (salesops.assets) to this


def _dbt_models() -> set[str]:
    return {p.stem for p in (project_dir() / "models").rglob("*.sql")}


@pytest.fixture(scope="module")
def warehouse_db(server_url, tmp_path_factory):
    """A fresh database, used by the DAGs' tasks as an external warehouse, and its landing zone."""
    from ingestion.demo import generate
    from salesops.config import maven_export_dir

    landing = tmp_path_factory.mktemp("transform-landing")
    generate(landing, scale=0.1, seed=11, maven_dir=maven_export_dir())
    with scratch_database(server_url) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_WAREHOUSE_URL", url)
        patch.setenv("SALESOPS_LANDING_URI", str(landing))
        yield url


def _states(dag_run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def _marts_events(run_id: str) -> list[dict]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return [json.loads(json.dumps(e.extra)) for e in rows if e.asset.uri == MARTS_URI]


def _last_gate(url: str, gate: str) -> tuple[str, dict]:
    status, summary = query(url, "select status, summary from ops.pipeline_runs where command = %s"
                                 " order by run_id desc limit 1", (f"quality_{gate}",))[0]
    return status, summary["summary"]


def test_transform_dag_parses_with_a_task_per_dbt_model():
    bag = airflow_runtime.dagbag()
    assert not bag.import_errors
    dag = bag.get_dag(DAG_ID)
    assert dag is not None
    own = {"prepare_warehouse", "quality_raw", "quality_marts", "apply_grants", "publish_marts"}
    assert own <= set(dag.task_ids)
    # A task per model (`<name>_run`), all after the one dbt build that runs them; the tests
    # run in that build and have no tasks (transform.dbt_task_group).
    model_tasks = {t[4:-4] for t in dag.task_ids if t.startswith("dbt.") and t.endswith("_run")}
    assert model_tasks == _dbt_models()
    assert not [t for t in dag.task_ids if t.endswith("test")]
    producer = dag.get_task("dbt.dbt_producer_watcher")
    after_build = {t.task_id for t in producer.get_flat_relatives(upstream=False)}
    assert after_build >= {f"dbt.{m}_run" for m in model_tasks} | {"quality_marts"}
    # Scheduled on every channel's raw Asset; publishes the marts Asset.
    assert "salesops://raw/crm_export" in str(dag.timetable.asset_condition)
    assert [o.uri for o in dag.get_task("publish_marts").outlets] == [MARTS_URI]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ingest_then_transform_builds_marts_behind_passing_gates(warehouse_db, tmp_path):
    ingest = airflow_runtime.run_dag("salesops_ingest")
    assert ingest.state == "success"

    terminal = _Terminal()
    run = pipeline.run_dag_quietly(DAG_ID, tmp_path / "transform.log", progress=terminal)

    states = _states(run)
    assert run.state == "success", {t: s for t, s in states.items() if s != "success"}
    assert set(states.values()) == {"success"}
    # Progress was shown on one line, rewritten in place, with the dbt build's nodes counted.
    shown = terminal.getvalue()
    assert "\n" not in shown and shown.count("\r") > 3
    builds = [tuple(map(int, m)) for m in re.findall(r"dbt build (\d+)/(\d+) nodes", shown)]
    assert builds, shown
    assert [done for done, _ in builds] == sorted(done for done, _ in builds)
    assert {total for _, total in builds} == {progress.dbt_build_nodes()} and builds[-1][0] <= builds[-1][1]
    # The build's flagged rows are listed for the run's summary, counted as the marts hold them.
    flags = progress.dbt_flags(DAG_ID, run.run_id)
    [(nulls,)] = query(warehouse_db,
                       "select count(*) from marts.fct_opportunities where account_name is null")
    assert nulls > 0 and f"WARN   not_null_fct_opportunities_account_name: {nulls} rows" in flags
    assert all(line.startswith("WARN") for line in flags), flags
    key_marts = [s.relation for s in mart_suites() if s.dbt_model in _dbt_models()]
    assert key_marts, "the dbt project defines none of the key marts"
    for relation in key_marts:
        assert query(warehouse_db, f"select count(*) > 0 from {relation}") == [(True,)], relation
    raw_status, raw = _last_gate(warehouse_db, "raw")
    marts_status, marts = _last_gate(warehouse_db, "marts")
    assert raw_status == marts_status == "passed"
    assert raw["checks"] > 20 and raw["failed_critical"] == []
    assert marts["checks"] >= len(key_marts) and marts["failed_critical"] == []
    # The DAG booked its dbt build (Cosmos runs dbt per node): the next build tests new batches only.
    newest = query(warehouse_db, "select max(finished_at) from ops.ingestion_batches")[0][0]
    assert query(warehouse_db, "select succeeded, batches_through from ops.transform_builds"
                               " where invocation_id = %s", (run.run_id,)) == [(True, newest)]
    [event] = _marts_events(run.run_id)
    loaded = query(warehouse_db, "select max(batch_id) from ops.ingestion_batches where status = 'loaded'")
    assert event["upto_batch_id"] == loaded[0][0]
    for relation in key_marts:
        assert event["marts"][relation.split(".")[1]] > 0
    # Cosmos runs the routing model on its own: its post-hook still recorded each round-robin
    # decision in the ledger (docs/ledgers.md)
    ((recorded, matching),) = query(
        warehouse_db, "select (select count(*) from ledger.lead_assignments), count(*)"
                      " from intermediate.int_leads_routed as r join ledger.lead_assignments as l"
                      " using (lead_key, assigned_rep_name, queue_position)"
                      " where r.assignment_method = 'round_robin'")
    assert recorded == matching > 0
    # Grants were applied to what dbt built: BI reads the marts and nothing below them.
    from salesops.access_admin import login_url

    bi = login_url(warehouse_db, "bi_reader")
    with psycopg.connect(bi) as conn:
        assert conn.execute(f"select count(*) from {key_marts[0]}").fetchone()[0] > 0
    with psycopg.connect(bi) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from raw.crm_opportunities limit 1")
    _assert_bi_sees_no_email_address(bi)
    # Every column the dbt project tags contains_pii is out of bi_reader's direct reach.
    tagged = transform.pii_columns(transform.ensure_manifest())
    assert tagged, "the dbt project tags no mart column contains_pii"
    for table, columns in tagged.items():
        for column in columns:
            readable = query(warehouse_db, "select has_column_privilege('bi_reader', %s, %s, 'select')",
                             (f"marts.{table}", column))
            assert readable == [(False,)], f"marts.{table}.{column}"


def test_forecast_dag_trains_registers_scores_and_publishes(warehouse_db, tmp_path, monkeypatch):
    """On the marts just built: the forecast DAG trains (no champion yet), scores every level into
    ml.revenue_forecasts and emits its Asset; run again, it neither retrains nor duplicates;
    asked to retrain, it does."""
    from ml.forecast import hierarchy, registry

    monkeypatch.setattr(registry, "tracking_home", lambda: tmp_path / "mlflow")
    (tmp_path / "mlflow").mkdir()
    monkeypatch.setenv("SALESOPS_FORECAST_HORIZON", "3")
    dag = airflow_runtime.dagbag().get_dag("salesops_forecast")
    assert MARTS_URI in str(dag.timetable.asset_condition)
    assert [o.uri for o in dag.get_task("score").outlets] == ["salesops://forecasts/"]

    run = airflow_runtime.run_dag("salesops_forecast")
    assert run.state == "success" and set(_states(run).values()) == {"success"}
    assert registry.champion_version() == "1"
    series = sum(len(s) for s in hierarchy.all_series(hierarchy.load_history(warehouse_db)).values())
    [(rows, version, horizon)] = query(warehouse_db, "select count(*), min(model_version), max(horizon)"
                                                     " from ml.revenue_forecasts")
    assert (rows, version, horizon) == (series * 3, "1", 3)
    [(scored, still_open)] = query(warehouse_db, "select (select count(*) from ml.opportunity_scores),"
                                                 " (select count(*) from marts.fct_opportunities"
                                                 "  where not is_closed)")
    assert scored == still_open > 0
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        [event] = [e.extra for e in session.query(AssetEvent).filter(AssetEvent.source_run_id == run.run_id)]
    last_month = hierarchy.load_history(warehouse_db).last_month
    assert event["rows"] == rows and event["as_of_month"] == str(last_month)

    # finance's targets in the landing zone (the demo writes targets/targets.csv) became quotas,
    # and the performance marts were rebuilt with them in the same run
    import csv

    from salesops.config import settings

    with open(f"{settings().landing_uri}/targets/targets.csv", encoding="utf-8") as handle:
        targeted = sum(Decimal(row["target"]) for row in csv.DictReader(handle))
    assert query(warehouse_db, "select count(*), sum(quotas) > 0 from finance.quota_loads") == [(1, True)]
    assert query(warehouse_db, "select sum(quota) from finance.quotas") == [(targeted,)]
    assert query(warehouse_db, "select sum(quota) from marts.rep_performance_monthly") == [(targeted,)]

    again = airflow_runtime.run_dag("salesops_forecast")
    assert again.state == "success"
    assert query(warehouse_db, "select count(*) from finance.quota_loads") == [(1,)]  # loaded once
    assert query(warehouse_db, "select count(*), sum(rows_written) from ml.forecast_runs") == [(2, rows)]
    assert registry.champion_version() == "1"  # recent enough: not retrained

    # `salesops run --retrain` / the conf: retrained now, the same data, so the new version wins
    forced = airflow_runtime.run_dag("salesops_forecast", {"retrain": True})
    assert forced.state == "success"
    assert registry.champion_version() == "2"
    assert registry.champion_version(registry.WIN_MODEL) == "2"
    assert query(warehouse_db, "select count(*), sum(rows_written) from ml.forecast_runs") == [(3, rows)]


def _assert_bi_sees_no_email_address(bi_url: str) -> None:
    """Whatever bi_reader can select in the marts holds no readable email address."""
    from salesops.access import EMAIL_INSIDE

    with psycopg.connect(bi_url) as conn:
        readable = conn.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
            " and has_column_privilege(format('marts.%I', table_name), column_name, 'select')").fetchall()
        assert readable
        probe = "select exists (select 1 from {} where {}::text ~ %s)"
        leaks = [f"marts.{t}.{c}" for t, c in readable if conn.execute(psycopg.sql.SQL(probe).format(
            psycopg.sql.Identifier("marts", t), psycopg.sql.Identifier(c)), (EMAIL_INSIDE,)).fetchone()[0]]
    assert leaks == []


def test_a_broken_mart_value_fails_the_marts_gate_and_stops_grants_and_publishing(warehouse_db):
    if "fct_opportunities" not in _dbt_models():
        pytest.fail("the dbt project has no fct_opportunities mart to break")
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        conn.execute("update marts.fct_opportunities set amount = -42"
                     " where opportunity_id = (select min(opportunity_id) from marts.fct_opportunities)")
    dag = airflow_runtime.dagbag().get_dag(DAG_ID)
    after_dbt = dag.partial_subset("quality_marts", include_downstream=True, include_upstream=False)

    run = after_dbt.test()

    assert run.state == "failed"
    assert _states(run) == {"quality_marts": "failed", "apply_grants": "upstream_failed",
                            "publish_marts": "upstream_failed"}
    status, summary = _last_gate(warehouse_db, "marts")
    assert status == "failed"
    [failure] = summary["failed_critical"]
    assert "marts.fct_opportunities.amount: amount >= 0" in failure
    assert "expect_column_values_to_be_between" in failure and "-42" in failure
    assert _marts_events(run.run_id) == []


def _downstream(manifest: dict, failed: str, through_tests: bool) -> set[str]:
    """Models built on ``failed``; ``through_tests``: also those built on any model that a test
    reading one of them reads too (a relationship test is skipped when one of its models is
    not built; a model may wait for it, in dbt's build as in Cosmos's tasks)."""
    nodes = manifest["nodes"]
    found, todo = set(), [failed]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            gated = [child]
            if through_tests and child.startswith("test."):
                gated = [c for parent in nodes[child]["depends_on"]["nodes"]
                         for c in manifest["child_map"].get(parent, [])]
            for node in gated:
                if node.startswith("model.") and node not in found:
                    found.add(node)
                    todo.append(node)
    return {n.split(".")[-1] for n in found}


def test_a_failing_model_fails_its_task_and_stops_what_is_built_on_it(warehouse_db):
    manifest = json.loads(transform.ensure_manifest().read_text())
    broken = "model.salesops.stg_surveys__responses"
    built_on_it = _downstream(manifest, broken, through_tests=False)
    maybe_gated = _downstream(manifest, broken, through_tests=True) | {"stg_surveys__responses"}
    # The model fails in the warehouse: where its view goes stands a table the transformer does
    # not own, so dbt cannot replace it (the warehouse's preparation does not touch staging).
    relation = "staging.stg_surveys__responses"
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        conn.execute(f"drop view if exists {relation} cascade")
        conn.execute(f"create table {relation} (squatter int)")
    try:
        run = airflow_runtime.run_dag(DAG_ID)
    finally:
        with psycopg.connect(warehouse_db, autocommit=True) as conn:
            conn.execute(f"drop table {relation}")

    states = _states(run)
    assert run.state == "failed"
    assert states["dbt.stg_surveys__responses_run"] == "failed"
    assert states["dbt.dbt_producer_watcher"] == "failed"  # so are the build and, after it, the gate
    models = {t[4:-4]: s for t, s in states.items() if t.endswith("_run")}
    assert built_on_it and {m: s for m, s in models.items() if m in built_on_it} == dict.fromkeys(
        built_on_it & models.keys(), "upstream_failed")
    # Models no test ties to it were built, and their tasks say so.
    unrelated = {m: s for m, s in models.items() if m not in maybe_gated}
    assert len(unrelated) >= 10 and set(unrelated.values()) == {"success"}, unrelated
    # Between them, models gated by a skipped relationship test: dbt skips them too; the task
    # says failed ("skipped because of an upstream failure") or upstream_failed.
    assert {s for m, s in models.items() if m in maybe_gated - built_on_it} <= {
        "success", "upstream_failed", "failed"}
    assert states["quality_marts"] == states["apply_grants"] == states["publish_marts"] == "upstream_failed"
    booked = query(warehouse_db, "select invocation_id, succeeded from ops.transform_builds")
    assert (run.run_id, False) in booked, booked
    assert _marts_events(run.run_id) == []


def test_a_broken_raw_value_fails_the_raw_gate_and_no_dbt_task_runs(warehouse_db):
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        batch = conn.execute(
            "insert into ops.ingestion_batches (channel, entity, raw_table, source_file, file_sha256,"
            " file_bytes, rows_in, rows_loaded, rows_rejected, status, finished_at) values"
            " ('orders', 'orders', 'raw.orders', '/landing/orders/patched.csv', 'patched', 1, 1, 1, 0,"
            " 'loaded', now()) returning batch_id").fetchone()[0]
        conn.execute("insert into raw.orders (order_id, order_date, amount, currency, _batch_id,"
                     " _row_number, _record_hash)"
                     " values ('PATCHED-1', '2017-05-01', 10, 'us$', %s, 1, 1)",
                     (batch,))

    run = airflow_runtime.run_dag(DAG_ID)

    states = _states(run)
    assert run.state == "failed"
    assert states["prepare_warehouse"] == "success" and states["quality_raw"] == "failed"
    downstream = {t: s for t, s in states.items() if t not in ("prepare_warehouse", "quality_raw")}
    # dbt never ran; the per-node tasks, which run after it, skip; the marts gate and what
    # follows it never run.
    assert states["dbt.dbt_producer_watcher"] == "upstream_failed"
    assert downstream and set(downstream.values()) <= {"upstream_failed", "skipped"}
    assert {s for t, s in states.items() if t.endswith("_run")} == {"skipped"}
    assert states["quality_marts"] == states["publish_marts"] == "upstream_failed"
    status, summary = _last_gate(warehouse_db, "raw")
    assert status == "failed"
    [failure] = summary["failed_critical"]
    assert "raw.orders.currency: currency is a three-letter currency code" in failure
    assert "'us$'" in failure


def test_payouts_dag_closes_the_last_month_with_a_statement_per_rep(warehouse_db, tmp_path, monkeypatch):
    """On the marts just built: the payouts DAG pays the marts' last month under plans/ (the demo
    plan), writes a statement for every credited rep and manager plus the payroll export, and
    emits its Asset; the statements add up to the run."""
    from ml.forecast import registry
    from salesops.config import settings

    monkeypatch.setattr(registry, "tracking_home", lambda: tmp_path / "mlflow")
    (tmp_path / "mlflow").mkdir()
    # The failing-model run above rebuilt the table marts and, failing, left them without reader
    # grants (closed until a build passes); the payouts DAG follows a passing one, which grants.
    from salesops.access import apply_grants

    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        apply_grants(conn, transform.pii_columns(transform.ensure_manifest()))
    dag = airflow_runtime.dagbag().get_dag("salesops_payouts")
    assert MARTS_URI in str(dag.timetable.asset_condition)
    run = airflow_runtime.run_dag("salesops_payouts")
    assert run.state == "success" and set(_states(run).values()) == {"success"}
    [(last,)] = query(warehouse_db, "select to_char(max(closed_date), 'YYYY-MM') from marts.fct_opportunities"
                                    " where is_won")
    [(run_id, period, payable)] = query(warehouse_db, "select run_id, to_char(period, 'YYYY-MM'), payable"
                                                      " from finance.payout_runs")
    assert period == last
    reps = {r for (r,) in query(warehouse_db, "select distinct rep_name from finance.deal_credits")}
    managers = {m for (m,) in query(warehouse_db, "select distinct manager_name from marts.fct_opportunities"
                                                  " where is_won and to_char(closed_date, 'YYYY-MM') = %s",
                                    (last,))}
    stated = dict(query(warehouse_db, "select rep_name, payable from finance.payout_statements"
                                      " where run_id = %s", (run_id,)))
    assert set(stated) == reps | managers and len(reps) >= 20
    assert sum(stated.values()) == payable > 0
    folder = settings().home / "payouts" / last
    assert len(list(folder.glob("statement-*.csv"))) == len(stated)
    payroll = (folder / "payroll.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(payroll) == 1 + len(stated)
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        [event] = [e.extra for e in session.query(AssetEvent).filter(AssetEvent.source_run_id == run.run_id)]
    assert event["period"] == last and event["statements"] == len(stated) and event["payable"] == str(payable)
    from salesops.pipeline import _print_payouts

    said = []
    _print_payouts(warehouse_db, said.append)
    assert said[0].strip() == (f"payout run {run_id} for {last}: {len(stated)} statements, "
                               f"payable {payable:,.2f} USD")
    assert said[-1].strip().startswith(f"statements: {folder} (payroll.csv")


def test_report_dag_writes_the_last_month_in_both_editions_and_languages(warehouse_db, tmp_path):
    """After the forecast and payouts DAGs: the report DAG writes the last closed month's sales and
    finance editions in English and Chinese; the finance edition carries the payout run, its accrual
    and the forecast; Chromium draws its charts with Chinese glyphs; a rerun is skipped as up to date."""
    from salesops.config import settings
    from salesops.pipeline import _print_reports, _report_not_needed
    from tests.browser import look_at

    dag = airflow_runtime.dagbag().get_dag("salesops_report")
    condition = str(dag.timetable.asset_condition)
    assert all(uri in condition for uri in (MARTS_URI, "salesops://forecasts/", "salesops://payouts/"))
    assert _report_not_needed(warehouse_db) is None
    run = airflow_runtime.run_dag("salesops_report")
    assert run.state == "success" and set(_states(run).values()) == {"success"}
    [(last,)] = query(warehouse_db, "select to_char(max(closed_month), 'YYYY-MM')"
                                    " from marts.fct_opportunities where is_closed")
    folder = settings().home / "reports" / last
    names = [f"report-{edition}-{lang}.html" for edition in ("finance", "sales") for lang in ("en", "zh")]
    assert sorted(p.name for p in folder.iterdir()) == names

    def shown(name: str) -> dict:
        html = (folder / name).read_text(encoding="utf-8")
        found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
        return json.loads(found.group(1).replace("<\\/", "</"))

    finance, sales = shown("report-finance-en.html"), shown("report-sales-en.html")
    [(run_id, payable)] = query(warehouse_db, "select run_id, payable from finance.payout_runs"
                                              " order by run_id desc limit 1")
    assert finance["payout_run"]["run_id"] == run_id
    assert sum(Decimal(r["payable"]) for r in finance["payouts"]) == payable > 0
    [(expected,)] = query(warehouse_db, "select sum(expected_commission) from finance.payout_projections"
                                        " where run_id = %s", (run_id,))
    assert sum(Decimal(r["expected_commission"]) for r in finance["accruals"]) == expected
    forecasts = query(warehouse_db, "select period::text, forecast from ml.revenue_forecasts"
                                    " where level = 'company' and as_of_month = %s order by period",
                      (f"{last}-01",))
    assert [(r["forecast_month"], Decimal(r["forecast"])) for r in finance["forecast"]] == forecasts
    assert len(forecasts) > 0 and "forecast" not in finance["missing"]
    assert sales["payout_run"] is None and sales["payouts"] == [] and "payouts" not in sales["missing"]
    said = []
    _print_reports(run, said.append)
    assert [line.strip() for line in said] == [f"report: {folder / n}" for n in
                                               ("report-sales-en.html", "report-finance-en.html",
                                                "report-sales-zh.html", "report-finance-zh.html")]
    seen = look_at(folder / "report-finance-zh.html", tmp_path, han_selectors=("#payouts h2",))
    assert seen.problems == [] and {u.split(":")[0] for u in seen.requests} == {"file"}
    assert {"trend", "payouts", "teams"} <= set(seen.charts) and min(seen.charts.values()) > 0.01
    fonts = seen.han_fonts["#payouts h2"]
    assert sum(n for family, n in fonts.items() if "CJK" in family) >= seen.han_chars["#payouts h2"] > 0
    assert "newer than their inputs" in _report_not_needed(warehouse_db)
