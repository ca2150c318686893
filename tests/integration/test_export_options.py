"""What a user can say about an export, and what a bad export does: through the CLI, on a real warehouse."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner

from salesops.cli import main
from tests.conftest import query


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_a_file_whose_every_row_is_rejected_is_a_failed_file(server_url, tmp_path):
    path = tmp_path / "orders_bad.csv"
    path.write_text("order_id,order_date,amount\nO1,not a date,5\nO2,31.02.2017,6\n")
    result = _run("ingest", "orders", str(path))
    assert result.exit_code == 1
    assert "REJECTED" in result.output and "every record was rejected (2)" in result.output
    status = query(server_url, "select status, rows_in, rows_loaded, rows_rejected"
                               " from ops.ingestion_batches where source_file = %s", (str(path),))
    assert status == [("rejected", 2, 0, 2)]


def test_options_are_checked_before_anything_is_booked(server_url, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("Record ID,Deal Name,Deal Stage,Amount\n1,A,closedwon,10\n")
    before = query(server_url, "select count(*) from ops.ingestion_batches")[0][0]
    for args, message in (
        (["--preset", "nope"], "has no preset 'nope'"),
        (["--currency", "dollars"], "--currency 'DOLLARS': give an ISO 4217 code"),
        (["--country", "Australia"], "--country 'AUSTRALIA': give an ISO 3166 code"),
        (["--encoding", "klingon"], "--encoding 'klingon': not an encoding Python knows"),
        (["--set", "colour=red"], "--set colour: channel crm_export has no column 'colour'"),
        (["--set", "noequals"], "write COLUMN=VALUE"),
    ):
        result = _run("ingest", "crm_export", str(path), *args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert query(server_url, "select count(*) from ops.ingestion_batches")[0][0] == before


def test_currency_country_and_constant_columns_apply_to_the_file_and_are_booked(server_url, tmp_path):
    deals = tmp_path / "hubspot-deals-gbp.csv"
    deals.write_text("Record ID,Deal Name,Deal Stage,Amount\nGB1,A,closedwon,\"1,250.50\"\n")
    result = _run("ingest", "crm_export", str(deals), "--currency", "gbp")
    assert result.exit_code == 0, result.output
    amounts = query(server_url, "select amount, currency from raw.crm_opportunities"
                                " where opportunity_id = 'GB1'")
    assert amounts == [(Decimal("1250.50"), "GBP")]
    options = query(server_url, "select options from ops.ingestion_batches where source_file = %s",
                    (str(deals),))
    assert options == [({"currency": "GBP"},)]

    contacts = tmp_path / "Contacts.csv"
    contacts.write_text("CONTACTID,Last Name,Mobile,Created Time\n"
                        "AU1,Smith,0412 345 678,\"15 Apr, 2021 00:02:00\"\n")
    assert _run("ingest", "crm_export", str(contacts), "--country", "au").exit_code == 0
    assert query(server_url, "select country, phone from raw.crm_contacts where contact_id = 'AU1'") \
        == [("AU", "0412 345 678")]

    attendees = tmp_path / "webinar.csv"
    attendees.write_text("Name,Email\nAnn Lee,ann@example.com\n")
    assert _run("ingest", "marketing_events", str(attendees), "--set", "event_id=WEB-2021-04").exit_code == 0
    named = tmp_path / "launch-event-2021.csv"
    named.write_text("Name,Email\nBo Chen,bo@example.com\n")
    assert _run("ingest", "marketing_events", str(named)).exit_code == 0
    assert query(server_url, "select event_id, email from raw.event_attendees"
                             " where email in ('ann@example.com', 'bo@example.com') order by 2") == [
        ("WEB-2021-04", "ann@example.com"), ("launch-event-2021", "bo@example.com")]


def test_one_bad_file_never_stops_the_others(server_url, tmp_path):
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "a_huge_field.csv").write_text("Record ID,Deal Name,Deal Stage\nH1,\"" + "x" * 1_200_000
                                             + "\",closedwon\n")
    (folder / "b_nul.csv").write_bytes(b"Record ID,Deal Name,Deal Stage,Notes\nN1,A,closedwon,bad\x00note\n")
    (folder / "c_not_crm.csv").write_text("favourite_colour\nblue\n")
    (folder / "d_good.csv").write_text("Record ID,Deal Name,Deal Stage\nG1,B,closedlost\n")
    result = _run("ingest", "crm_export", str(folder))
    assert result.exit_code == 1  # the non-CRM file failed ...
    assert "Traceback" not in result.output
    lines = result.output
    for name in ("a_huge_field.csv", "b_nul.csv", "d_good.csv"):  # ... and the others loaded
        assert f"loaded   {folder / name}" in lines, lines
    assert f"{folder / 'c_not_crm.csv'}: not a crm_export file" in lines
    assert "NUL bytes removed from column 'Notes' in 1 record(s) (record 1)" in lines
    extra = query(server_url, "select _extra from raw.crm_opportunities where opportunity_id = 'N1'")
    assert extra == [({"Notes": "badnote"},)]
    note = query(server_url, "select error from ops.ingestion_batches where source_file = %s",
                 (str(folder / "b_nul.csv"),))
    assert "NUL bytes removed" in note[0][0]


def test_inspect_shows_how_a_file_would_load_without_loading_it(server_url, tmp_path):
    path = tmp_path / "Opportunity.csv"
    path.write_bytes("Id,Name,StageName,Amount,CloseDate,IsWon,IsClosed,CurrencyIsoCode\n"
                     "006A,Negociación grande,Negociación,100,30-09-2015,0,0,PEN\n"
                     "006B,Otra,Closed Won,oops,01-06-2020,1,1,PEN\n".encode("cp1252"))
    before = query(server_url, "select count(*) from ops.ingestion_batches")[0][0]
    result = _run("inspect", str(path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "entity       opportunities -> raw.crm_opportunities (preset salesforce)" in out
    assert "encoding     cp1252" in out and "comma-separated" in out
    assert "'StageName'" in out and "-> stage" in out
    assert "closed_date  dates as %d-%m-%Y" in out
    assert "would load   1 loaded, 1 rejected" in out
    assert "record 2: column 'Amount': 'oops' is not an amount" in out
    assert query(server_url, "select count(*) from ops.ingestion_batches")[0][0] == before
    dry = _run("ingest", "crm_export", str(path), "--dry-run")
    assert dry.exit_code == 0 and "would load   1 loaded, 1 rejected" in dry.output
    refused = tmp_path / "sales_pipeline.csv"
    refused.write_text("opportunity_id,sales_agent,product,account,close_value\nX,A,B,C,1\n")
    result = _run("inspect", str(refused))
    assert result.exit_code == 1 and "REFUSED" in result.output
    assert "looks like opportunities" in result.output


def test_a_symbolic_link_is_refused_and_its_target_never_read(server_url, tmp_path):
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "leads.csv").symlink_to(secret)
    (folder / "deals.csv").write_text("Record ID,Deal Name,Deal Stage\nSYM1,A,closedwon\n")
    result = _run("ingest", "crm_export", str(folder))
    assert result.exit_code == 1
    assert f"{folder / 'leads.csv'}: is a symbolic link; salesops reads only regular files" in result.output
    assert "root:x" not in result.output and f"loaded   {folder / 'deals.csv'}" in result.output
    kept = query(server_url, "select count(*) from ops.rejected_rows where raw_record::text like %s",
                 ("%root:x%",))
    assert kept == [(0,)]


def test_control_characters_in_headers_are_shown_escaped(server_url, tmp_path):
    path = tmp_path / "weird.csv"
    path.write_text("\x1b[31mred\x1b[0m,favourite\nx,y\n")
    result = _run("ingest", "crm_export", str(path))
    assert result.exit_code == 1 and "\x1b" not in result.output
    assert "\\x1b[31mred\\x1b[0m" in result.output
