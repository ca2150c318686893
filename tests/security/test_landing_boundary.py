"""Ingest reads nothing outside the folder it is given; messages quote files in short, escaped excerpts."""

from __future__ import annotations

from click.testing import CliRunner

from salesops.cli import main
from tests.conftest import query

HEADER = "order_id,order_date,amount,currency\n"


def test_ingest_refuses_a_linked_folder_and_loads_the_rest(server_url, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "orders.csv").write_text(f"{HEADER}BOUNDARY-SECRET,2017-03-01,1,USD\n")
    folder = tmp_path / "landing"
    (folder / "2017").mkdir(parents=True)
    (folder / "2017" / "march.csv").write_text(f"{HEADER}BOUNDARY-OK,2017-03-02,2,USD\n")
    (folder / "2017" / "april").symlink_to(outside)

    result = CliRunner().invoke(main, ["ingest", "orders", str(folder)])

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"FAILED   {folder / '2017' / 'april'}: is a symbolic link; salesops reads only regular files" \
        in result.output
    assert f"loaded   {folder / '2017' / 'march.csv'}" in result.output
    assert "BOUNDARY-SECRET" not in result.output and str(outside) not in result.output
    assert query(server_url, "select order_id from raw.orders where order_id like 'BOUNDARY-%'") \
        == [("BOUNDARY-OK",)]
    assert query(server_url, "select count(*) from ops.rejected_rows where raw_record::text like %s",
                 ("%BOUNDARY-SECRET%",)) == [(0,)]
    assert query(server_url, "select count(*) from ops.ingestion_batches where source_file like %s",
                 (f"{outside}%",)) == [(0,)]


def test_messages_quote_a_file_in_short_escaped_excerpts(server_url, tmp_path):
    long_value = "\x1b[2J" + "x" * 5000
    path = tmp_path / "orders.csv"
    path.write_text(f"{HEADER}EXCERPT-1,{long_value},1,USD\nEXCERPT-2,2017-03-01,1,USD\n")
    shown = CliRunner().invoke(main, ["inspect", str(path), "--channel", "orders"])
    assert shown.exit_code == 0, shown.output
    reason = next(line for line in shown.output.splitlines() if line.strip().startswith("record 1:"))
    assert "\x1b" not in reason and "\\x1b[2J" in reason and "... (5,004 characters)" in reason
    assert len(reason) < 250
    loaded = CliRunner().invoke(main, ["ingest", "orders", str(path)])
    assert loaded.exit_code == 0, loaded.output
    stored = query(server_url, "select reason, raw_record->>'order_date' from ops.rejected_rows r"
                               " join ops.ingestion_batches b using (batch_id) where b.source_file = %s",
                   (str(path),))
    assert len(stored) == 1 and len(stored[0][0]) < 250 and stored[0][1] == long_value  # the record: whole

    headers = ["\x1b]0;owned\x07" + "h" * 1000] + [f"col{i}" for i in range(40)]
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(headers) + "\n" + ",".join("x" * len(headers)) + "\n")
    refused = CliRunner().invoke(main, ["ingest", "orders", str(wide)])
    assert refused.exit_code == 1 and "\x1b" not in refused.output and "\x07" not in refused.output
    line = next(x for x in refused.output.splitlines() if "the file's headers:" in x)
    assert "\\x1b]0;owned\\x07" in line and "... (1,010 characters)" in line
    assert "col28, ... (11 more)" in line and len(line) < 1000
