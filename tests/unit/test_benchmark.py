"""The ingest benchmark's report: one table per run, peers side by side, missing peers said so."""

from __future__ import annotations

from salesops.benchmark import RESULTS_MARK, _sqlalchemy_url, _write_markdown

OUTCOME = {
    "rows": 1_000_000, "round_ratios": [0.7, 0.82, 0.85], "raw_copy_rows_per_s": 700_000.0,
    "salesops_rows_per_s": 574_000.0, "ratio": 0.82,
    "peers": {"dlt (Arrow table, csv jobs via COPY)": None,
              "pandas to_sql, method='multi'": {"rows": 20_000, "rows_per_s": 3_500.0, "ratio": 0.005}},
}


def test_run_table_goes_above_the_mark_with_every_loader(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{RESULTS_MARK}\n\n## Transform\n", encoding="utf-8")

    _write_markdown(doc, OUTCOME)

    text = doc.read_text(encoding="utf-8")
    table, rest = text.split(RESULTS_MARK)
    assert "## Transform" in rest
    assert "(salesops rounds: 0.70, 0.82, 0.85)" in table
    assert "| salesops (median of rounds) | 1,000,000 | 574,000 | 0.82 |" in table
    assert "| dlt (Arrow table, csv jobs via COPY) | not installed | | |" in table
    assert "| pandas to_sql, method='multi' | 20,000 | 3,500 | 0.005 |" in table


def test_urls_for_url_clients_keep_loopback_or_socket():
    assert _sqlalchemy_url("host=127.0.0.1 port=5433 user=postgres password=p@ss dbname=b") == \
        "postgresql://postgres:p%40ss@127.0.0.1:5433/b"
    assert _sqlalchemy_url("host=/run/pg port=5432 user=u dbname=b", "postgresql+psycopg2") == \
        "postgresql+psycopg2://u@/b?host=/run/pg&port=5432"


def test_the_run_benchmarks_row_lands_in_its_own_table_not_at_the_end_of_the_file(tmp_path):
    from salesops import benchmark_run

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"## Run\n\n| a |\n|---|\n{benchmark_run.RESULTS_MARK}\n\n## Forecast\n", encoding="utf-8")
    outcome = {"scale": 1, "first_run_s": 106.94, "dag_s": 55.2, "build_s": 32.5, "ratio": 1.698,
               "rerun_s": 1.8}
    benchmark_run._append_markdown(doc, outcome)
    table, rest = doc.read_text(encoding="utf-8").split(benchmark_run.RESULTS_MARK)
    assert table.rstrip().endswith("| 1 | 106.9 | 55.2 | 32.5 | 1.70x | 1.8 |")
    assert rest == "\n\n## Forecast\n"
