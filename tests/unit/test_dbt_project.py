"""The dbt project's structure and conventions, checked on the parsed manifest (no warehouse).

`dbt parse` runs in-process through salesops.dbt_project.run_dbt with an unreachable URL:
parsing never connects. The checks follow docs/data_quality.md and the design notes:
layout and naming, docs on every model and column, contracts on the marts (and the
columns BI users rely on), generic tests in the `arguments:` form, sources with
freshness, incremental facts, snapshots, unit tests, no deprecation warnings.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import yaml

from salesops.config import settings
from salesops.dbt_project import project_dir, run_dbt

DBT = project_dir()
UNREACHABLE = "postgresql://salesops@127.0.0.1:9/never_connected"

# The marts and the columns BI users build on (a contract: never rename, only add).
BI_CONTRACT = {
    "customer_360": ["customer_id", "customer_name", "industry", "region", "size_band", "tags",
                     "first_channel", "first_seen_date", "contacts", "leads", "opportunities",
                     "deals_won", "lifetime_revenue", "order_revenue", "last_activity_at",
                     "avg_csat"],
    "contacts": ["contact_id", "source_records", "source_record_ids", "has_email", "has_phone",
                 "is_pii"],
    "fct_leads": ["lead_key", "channel", "created_at", "assigned_rep_name", "first_response_time",
                  "is_converted", "opportunity_id"],
    "fct_opportunities": ["opportunity_id", "account_name", "customer_id", "product_name",
                          "rep_name", "manager_name", "region", "stage", "is_closed", "is_won",
                          "engaged_date", "closed_date", "amount", "list_price", "days_to_close",
                          "loss_reason", "currency"],
    "funnel_conversion": ["channel", "cohort_month", "stage", "entered", "advanced",
                          "conversion_rate", "median_days_in_stage"],
    "loss_reasons": ["loss_reason", "month", "rep_name"],
    "rep_performance_monthly": ["rep_name", "month", "won_revenue", "deals_won", "deals_lost",
                                "win_rate", "avg_deal_size", "avg_days_to_close", "calls", "emails",
                                "meetings", "tasks", "first_response_time", "avg_csat", "quota",
                                "attainment", "won_revenue_mom_pct", "won_revenue_yoy_pct",
                                "won_revenue_vs_team_avg", "rank_in_team"],
    "team_performance_monthly": ["manager_name", "region", "month", "won_revenue", "deals_won",
                                 "deals_lost", "win_rate", "avg_deal_size", "avg_days_to_close",
                                 "calls", "emails", "meetings", "tasks", "avg_csat", "quota",
                                 "attainment", "won_revenue_mom_pct", "won_revenue_yoy_pct"],
    "training_needs": ["rep_name", "metric", "stage", "gap", "peer_baseline"],
}
MONEY = {"amount", "list_price", "amount_usd", "list_price_usd", "lifetime_revenue",
         "order_revenue", "won_revenue", "avg_deal_size", "quota", "lost_list_value"}
GENERIC_TEST_KEYS = {"arguments", "config", "description", "name"}


@pytest.fixture(scope="module")
def parsed():
    """(manifest, new log text) of a fresh `dbt parse`."""
    log = settings().home / "dbt" / "logs" / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    result = run_dbt(["parse", "--no-partial-parse"], UNREACHABLE)
    text = log.read_text(errors="replace")[start:] if log.exists() else ""
    return result.result, text


@pytest.fixture(scope="module")
def manifest(parsed):
    return parsed[0]


def _models(manifest):
    return [n for n in manifest.nodes.values() if n.resource_type == "model"]


def _by_name(manifest):
    return {n.name: n for n in _models(manifest)}


def test_parse_is_clean_offline(parsed):
    _, log = parsed
    assert "Deprecat" not in log, [line for line in log.splitlines() if "Deprecat" in line]
    assert not (DBT / "packages.yml").exists() and not (DBT / "dependencies.yml").exists()
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False


def test_layout_and_naming_follow_the_structure_guide(manifest):
    for node in _models(manifest):
        path = Path(node.original_file_path)
        layer, folder = path.parts[1], path.parts[2]
        assert path.parts[0] == "models" and len(path.parts) == 4, path
        if layer == "staging":
            assert re.fullmatch(rf"stg_{folder}__[a-z_]+s", node.name), node.name
            assert node.config.materialized == "view"
            assert node.schema == "staging"
        elif layer == "intermediate":
            assert re.fullmatch(r"int_[a-z_]+s_[a-z]+ed", node.name), node.name
            assert node.schema == "intermediate"
        else:
            assert layer == "marts", path
            assert node.config.materialized in ("table", "incremental") and node.schema == "marts"
        sql = (DBT / path).read_text()
        assert sql.rstrip().endswith("select * from final"), node.name  # jaffle-shop style
        code = re.sub(r"--[^\n]*|'[^']*'|\{\{.*?\}\}|\{%.*?%\}", "", sql, flags=re.S)
        assert not re.search(r"\b(SELECT|FROM|WHERE|JOIN|GROUP|ORDER|CASE|WHEN|AS|WITH)\b",
                             code), f"{node.name}: upper-case SQL"


def test_one_yml_per_folder_and_docs_on_every_model_and_column(manifest):
    folders = {p.parent for p in (DBT / "models").rglob("*.sql")}
    for folder in folders:
        ymls = sorted(p.name for p in folder.glob("*.yml"))
        name = folder.name
        assert f"_{name}__models.yml" in ymls, folder
        assert set(ymls) <= {f"_{name}__models.yml", f"_{name}__sources.yml"}, ymls
    for node in _models(manifest):
        assert len(node.description) > 40, f"{node.name}: no description"
        assert node.columns, f"{node.name}: no documented columns"
        for column in node.columns.values():
            assert column.description and column.description != "TODO", (node.name, column.name)
    for seed in (n for n in manifest.nodes.values() if n.resource_type == "seed"):
        assert seed.description and all(c.description for c in seed.columns.values()), seed.name


def test_marts_have_contracts_and_the_bi_columns(manifest):
    models = _by_name(manifest)
    marts = {n.name: n for n in models.values() if n.schema == "marts"}
    assert set(BI_CONTRACT) <= set(marts)
    for name, node in marts.items():
        assert node.config.contract.enforced, name
        types = {c: info.data_type for c, info in node.columns.items()}
        assert all(types.values()), f"{name}: a contract column without data_type"
        for column, data_type in types.items():
            assert not re.search(r"float|double|real", data_type), (name, column)
            if column in MONEY:
                assert data_type == "numeric", (name, column)
            if data_type == "boolean":
                assert column.startswith(("is_", "has_")), (name, column)
            if data_type.startswith("timestamp"):
                assert column.endswith("_at"), (name, column)
            if data_type == "date":
                assert column.endswith(("_date", "month")), (name, column)
        for column in BI_CONTRACT.get(name, []):
            assert column in types, f"{name}.{column} is part of the BI contract"


def test_generic_tests_use_the_arguments_form():
    def entries(doc):
        for resource in ("models", "seeds", "sources", "snapshots"):
            for item in doc.get(resource) or []:
                yield from item.get("data_tests") or []
                for column in item.get("columns") or []:
                    assert "tests" not in column, "use data_tests"
                    yield from column.get("data_tests") or []
                for table in item.get("tables") or []:
                    for column in table.get("columns") or []:
                        yield from column.get("data_tests") or []

    files = list((DBT / "models").rglob("*.yml")) + list((DBT / "seeds").glob("*.yml"))
    checked = 0
    for path in files:
        for test in entries(yaml.safe_load(path.read_text()) or {}):
            if isinstance(test, dict):
                ((name, body),) = test.items()
                assert set(body) <= GENERIC_TEST_KEYS, f"{path.name}: {name} uses the flat form"
                checked += 1
    assert checked > 50


def test_every_raw_table_has_a_fresh_source_and_one_staging_model(manifest):
    from ingestion.contracts import all_entities

    raw_tables = {e.table for e in all_entities()}
    sources = {s.name: s for s in manifest.sources.values() if s.schema == "raw"}
    raw_sources = {s.unique_id for s in sources.values()}
    assert set(sources) == raw_tables
    for source in sources.values():
        assert source.loaded_at_field == "_loaded_at", source.name
        assert source.freshness and source.freshness.warn_after.count, source.name
    staged = {}
    for node in _models(manifest):
        for parent in node.depends_on.nodes:
            if parent in raw_sources:
                staged.setdefault(manifest.sources[parent].name, []).append(node.name)
    assert {t: len(m) for t, m in staged.items()} == dict.fromkeys(raw_tables, 1)
    # only staging models read sources
    assert all(m[0].startswith("stg_") for m in staged.values())


def test_large_facts_are_incremental_on_load_metadata(manifest):
    models = _by_name(manifest)
    for name, key in (("int_activities_deduplicated", "activity_id"), ("int_leads_unioned", "lead_key"),
                      ("int_crm_contacts_deduplicated", "contact_id")):
        node = models[name]
        assert node.config.materialized == "incremental" and node.config.unique_key == key
        # each staging view read through the window over its own raw table's batches
        windows = re.findall(r"incremental_window\('raw\.(\w+)'\)", node.raw_code)
        sources = re.findall(r"ref\('stg_(?!ops__)\w+'\)", node.raw_code)
        assert windows and len(windows) == len(sources), (name, windows, sources)
        # keyed on the batches' commit time (ops.ingestion_batches), not on _loaded_at
        assert "model.salesops.stg_ops__ingestion_batches" in node.depends_on.nodes
        assert {"batch_id", "batch_finished_at"} <= {
            tuple(i["columns"])[0] for i in node.config.to_dict()["indexes"]}


def test_snapshots_unit_tests_and_custom_generic_tests(manifest):
    snapshots = [n for n in manifest.nodes.values() if n.resource_type == "snapshot"]
    assert {s.name for s in snapshots} == {"opportunities_snapshot", "customers_snapshot"}
    for snap in snapshots:
        assert snap.schema == "snapshots" and snap.config.strategy == "check" and snap.config.unique_key
    tested = {u.model for u in manifest.unit_tests.values()}
    assert {"stg_web_forms__leads", "int_contact_records_clustered", "int_company_names_matched",
            "int_leads_routed", "int_opportunities_joined", "int_leads_unioned",
            "funnel_conversion"} <= tested
    singular = {n.name for n in manifest.nodes.values()
                if n.resource_type == "test" and not getattr(n, "test_metadata", None)}
    assert {"assert_opportunities_reconcile_with_raw", "assert_identity_resolution_converged",
            "assert_rep_performance_reconciles", "assert_every_lead_reaches_fct_leads",
            "assert_funnel_counts_every_opportunity_once"} <= singular
    # warnings are reserved for documented data defects
    warned = {n.name for n in manifest.nodes.values()
              if n.resource_type == "test" and n.config.severity.lower() == "warn"}
    documented = (Path(__file__).parents[2] / "docs" / "data_quality.md").read_text()
    assert "severity: warn" in documented
    assert {"not_null_fct_opportunities_account_name",
            "not_null_stg_crm_export__opportunities_account_name"} <= warned


def test_sqlfluff_config_is_jaffle_shop_on_postgres():
    config = configparser.ConfigParser()
    config.read(DBT / ".sqlfluff")
    assert config["sqlfluff"]["dialect"] == "postgres"
    assert config["sqlfluff"]["templater"] == "jinja"
    assert config["sqlfluff:templater:jinja"]["apply_dbt_builtins"] == "True"
    assert config["sqlfluff:rules:capitalisation.keywords"]["capitalisation_policy"] == "lower"


def test_salesops_run_parses_the_project_in_a_process_of_its_own(tmp_path, monkeypatch):
    """`salesops run` starts dbt's parse beside its first steps: the manifest it waits for is the
    one the DAGs render from, and the warehouse password never reaches the process's argv."""
    from salesops import pipeline, transform

    monkeypatch.setenv("SALESOPS_HOME", str(tmp_path))
    secret = "postgresql://salesops_transformer:pa55-word@127.0.0.1:9/salesops"
    assert transform.fresh_manifest() is None
    parsing = pipeline._start_manifest(secret)
    assert parsing is not None and not any("pa55-word" in str(arg) for arg in parsing.args)
    said = []
    pipeline._refresh_manifest(said.append, secret, parsing)
    assert parsing.returncode == 0
    assert transform.fresh_manifest() == transform.manifest_path()
    assert said and "parsed beside the steps above" in said[0]
    # A fresh manifest starts nothing.
    assert pipeline._start_manifest(secret) is None
