"""The command line a data engineer uses, run in-process against the session's warehouse."""

from __future__ import annotations

from click.testing import CliRunner

from salesops.cli import main


def test_warehouse_url_and_status(server_url):
    runner = CliRunner()
    url = runner.invoke(main, ["warehouse", "url"])
    assert url.exit_code == 0 and url.output.strip() == server_url
    status = runner.invoke(main, ["warehouse", "status"])
    assert status.exit_code == 0 and "embedded warehouse running" in status.output


def test_ingest_wrong_file_exits_non_zero_and_says_what_was_expected(server_url, tmp_path):
    wrong = tmp_path / "attendees.csv"
    wrong.write_text("name,favourite_colour\nAnn,blue\n")
    result = CliRunner().invoke(main, ["ingest", "marketing_events", str(wrong)])
    assert result.exit_code == 1
    assert f"{wrong}: not a complete marketing_events file: it looks like attendees" in result.output
    assert "lacks required column(s): email or phone (accepted headers: " in result.output
    assert "the file's headers: name, favourite_colour" in result.output


def test_ingest_unknown_channel_and_missing_path_are_refused(server_url, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(main, ["ingest", "fax", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown channel 'fax'" in unknown.output
    missing = runner.invoke(main, ["ingest", "orders", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file or folder" in missing.output


def test_ingest_twice_says_nothing_changed(server_url, tmp_path):
    path = tmp_path / "surveys.csv"
    path.write_text("response_id,responded_at,survey_type,score\nCLI1,2017-05-01,csat,5\nCLI2,2017-05-01,csat,9x\n")
    runner = CliRunner()
    first = runner.invoke(main, ["ingest", "surveys", str(path)])
    assert first.exit_code == 0, first.output
    assert "2 rows in, 1 loaded into raw.survey_responses, 1 rejected" in first.output
    second = runner.invoke(main, ["ingest", "surveys", str(path)])
    assert second.exit_code == 0 and "nothing changed" in second.output


def test_channels_lists_every_contract():
    from ingestion.contracts import channels

    output = CliRunner().invoke(main, ["channels"]).output
    for channel in channels():
        assert f"{channel}:" in output
    assert "preset maven" in output and "preset salesforce" in output and "preset hubspot" in output
