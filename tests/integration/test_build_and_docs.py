"""`salesops build` and `salesops docs` on a tiny dbt project of their own (real dbt, real Postgres).

The project has a sound mart and a mart whose unique test fails, so the build summary
must count models and tests, name the failing test and exit non-zero.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from salesops.cli import main
from salesops.config import REPO_ROOT, settings
from tests.conftest import query


@pytest.fixture()
def tiny_project(tmp_path, db_url, monkeypatch):
    project = tmp_path / "dbt"
    shutil.copytree(REPO_ROOT / "dbt" / "macros", project / "macros")
    shutil.copy(REPO_ROOT / "dbt" / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text(
        "name: salesops\nversion: '1.0.0'\nconfig-version: 2\nprofile: salesops\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
        "models:\n  salesops:\n    marts:\n      +materialized: table\n      +schema: marts\n")
    marts = project / "models" / "marts"
    marts.mkdir(parents=True)
    (marts / "fct_sound.sql").write_text(
        "select 1 as id, 'ann@acme.com' as email, 'Ann Lee' as owner union all"
        " select 2, 'bob@acme.com', 'Bob Wu'\n")
    (marts / "fct_doubled.sql").write_text("select 1 as id union all select 1\n")
    (marts / "_marts__models.yml").write_text(
        "models:\n"
        "  - name: fct_sound\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n"
        "      - name: owner\n        config:\n          meta:\n            contains_pii: true\n"
        "  - name: fct_doubled\n    columns:\n      - name: id\n        data_tests: [unique]\n")
    monkeypatch.setenv("SALESOPS_DBT_PROJECT_DIR", str(project))
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", db_url)
    return project


def test_build_summarises_models_and_tests_and_fails_on_a_failing_test(tiny_project, db_url):
    result = CliRunner().invoke(main, ["build"])

    assert result.exit_code == 1, result.output
    assert "models         2: 2 success" in result.output
    assert "tests          3: 1 fail, 2 pass" in result.output
    assert "FAILED test.salesops.unique_fct_doubled_id" in result.output
    assert "FAILED in " in result.output
    assert query(db_url, "select count(*) from marts.fct_sound") == [(2,)]


def test_build_of_a_selection_reapplies_grants(tiny_project, db_url):
    result = CliRunner().invoke(main, ["build", "--select", "fct_sound"])

    assert result.exit_code == 0, result.output
    assert "models         1: 1 success" in result.output and "succeeded in " in result.output
    assert "reader grants re-applied" in result.output
    assert query(db_url, "select has_table_privilege('bi_reader', 'marts.fct_sound_masked', 'select'),"
                         " has_column_privilege('bi_reader', 'marts.fct_sound', 'email', 'select'),"
                         " has_column_privilege('bi_reader', 'marts.fct_sound', 'owner', 'select'),"
                         " has_column_privilege('bi_reader', 'marts.fct_sound', 'id', 'select')") == [
        (True, False, False, True)]
    assert query(db_url, "select owner, email from marts.fct_sound_masked order by id") == [
        ("A***", "a***@acme.com"), ("B***", "b***@acme.com")]


def test_docs_writes_the_static_site_and_says_where(tiny_project):
    result = CliRunner().invoke(main, ["docs"])

    assert result.exit_code == 0, result.output
    index = settings().home / "dbt" / "target" / "index.html"
    assert f"docs generated: {index}" in result.output
    assert index.stat().st_size > 10_000
    assert (index.parent / "catalog.json").exists()
