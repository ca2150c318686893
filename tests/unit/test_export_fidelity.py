"""Reading real CRM exports: entity detection, presets, encodings, dates, NUL bytes, summary rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from ingestion import parsing
from ingestion.contracts import PresetError, contract, presets
from ingestion.errors import IngestionError
from ingestion.mapping import match
from ingestion.readers import decode, read_records, remove_nul
from ingestion.validate import validate

CRM = contract("crm_export")
MAVEN_PIPELINE = ["opportunity_id", "sales_agent", "product", "account", "engage_date", "close_date",
                  "close_value"]


def test_a_pipeline_without_its_stage_is_refused_as_opportunities_not_loaded_as_accounts():
    with pytest.raises(IngestionError) as err:
        match(CRM, MAVEN_PIPELINE, "x/sales_pipeline.csv")
    message = str(err.value)
    assert "it looks like opportunities (preset maven)" in message
    assert "lacks required column(s): stage or is_won or is_closed (accepted headers: deal_stage)" in message
    assert "the file's headers: " + ", ".join(MAVEN_PIPELINE) in message  # real headers, not normalised


@pytest.mark.parametrize(("name", "headers", "entity"), [
    ("Account.csv", ["Id", "Name", "Type", "ParentId", "BillingCountry", "Industry", "AnnualRevenue",
                     "NumberOfEmployees", "OwnerId", "CreatedDate"], "accounts"),
    ("Contact.csv", ["Id", "AccountId", "FirstName", "LastName", "Email", "Phone", "Title", "OwnerId",
                     "CreatedDate"], "contacts"),
    ("Lead.csv", ["Id", "FirstName", "LastName", "Company", "Email", "Status", "LeadSource", "CreatedDate"],
     "leads"),
    ("User.csv", ["Id", "Username", "FirstName", "LastName", "Email", "Title", "Phone", "AccountId",
                  "CreatedDate"], "sales_reps"),
    ("Opportunity.csv", ["Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "IsClosed",
                         "IsWon", "ForecastCategory", "CurrencyIsoCode", "OwnerId", "CreatedDate"],
     "opportunities"),
])
def test_salesforce_api_names_find_their_object(name, headers, entity):
    found = match(CRM, headers, f"export/{name}")
    assert (found.entity.entity, found.preset) == (entity, "salesforce")


def test_salesforce_user_names_are_joined_and_preference_follows_the_preset():
    found = match(CRM, ["Id", "FirstName", "LastName", "Email"], "User.csv")
    assert found.joined == {"rep_name": ("FirstName", "LastName")}
    opportunity = match(CRM, ["Id", "StageName", "ForecastCategory", "ForecastCategoryName"],
                        "Opportunity.csv")
    assert opportunity.columns["forecast_category"] == "ForecastCategoryName"  # the label, not the API value


def test_a_module_without_an_id_column_gets_stable_synthetic_ids():
    headers = ["Potential Name", "Potential Owner", "Stage", "Amount", "Closing Date"]
    found = match(CRM, headers, "Potentials.csv")
    assert (found.entity.entity, found.preset) == ("opportunities", "zoho")
    assert found.synthetic_id == "opportunity_id"
    table = pa.table({h: pa.array(["Quinn, Ethan", "Elena", "Closed Won", "$1.00", "1 Apr, 2021"][i:i + 1])
                      for i, h in enumerate(headers)})
    from ingestion.readers import RawRecords

    raw = RawRecords(table, pa.array([1], pa.int64()), "csv", "utf-8")
    first = validate(raw, found).good.column("opportunity_id").to_pylist()
    again = validate(raw, found).good.column("opportunity_id").to_pylist()
    assert first == again and first[0].startswith("opportunity-")
    assert len(first[0]) == len("opportunity-") + 16


def test_set_fills_a_column_and_the_file_name_names_an_event():
    attendees = contract("marketing_events")
    found = match(attendees, ["Name", "Email"], "landing/webinar-2021-04.csv")
    assert found.constants == {"event_id": "webinar-2021-04"}
    given = match(attendees, ["Name", "Email"], "landing/x.csv", constants={"event_id": "EV-9"})
    assert given.constants == {"event_id": "EV-9"}


def test_user_presets_from_a_folder_and_a_file(tmp_path, monkeypatch):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "pipedrive.yml").write_text(
        "preset: pipedrive\nchannel: crm_export\ndefault_currency: EUR\nentities:\n  opportunities:\n"
        "    opportunity_id: [Deal - ID, ID]\n    stage: Deal - Stage\n    amount: [Deal - Value]\n",
        encoding="utf-8")
    monkeypatch.setenv("SALESOPS_PRESETS_DIR", str(folder))
    found = match(CRM, ["Deal - ID", "Deal - Stage", "Deal - Value"], "deals.csv")
    assert (found.preset, found.default_currency) == ("pipedrive", "EUR")
    bad = tmp_path / "bad.yml"
    bad.write_text("preset: bad\nchannel: crm_export\nentities:\n  opportunities:\n    colour: Colour\n")
    with pytest.raises(PresetError, match=r"bad\.yml: opportunities maps unknown column\(s\) colour"):
        presets("crm_export", (str(bad),))


def test_windows_1252_and_mixed_encodings_are_detected():
    text = "Name,Stage\nNegociación,Diseño Propuesta\nSão Paulo — Ltda,Closed Won\n"
    decoded, used = decode(text.encode("cp1252"), "f.csv")
    assert decoded == text and used in ("cp1252", "windows-1252", "latin-1", "iso8859-1", "iso8859-15")
    mixed = "Name\nBogotá\n".encode("cp1252") + "Perú\n".encode()
    decoded, used = decode(mixed, "f.csv")
    assert (decoded, used) == ("Name\nBogotá\nPerú\n", "utf-8+cp1252")
    forced, used = decode("Müller\n".encode("latin-1"), "f.csv", "latin-1")
    assert (forced, used) == ("Müller\n", "iso8859-1")


def test_nul_bytes_are_removed_and_reported_where():
    records = read_records(b"id,notes\nA,ok\nB,bad\x00value\n", "f.csv")
    cleaned, where = remove_nul(records)
    assert cleaned.table.column("notes").to_pylist() == ["ok", "badvalue"]
    assert where == {"notes": [2]}


@pytest.mark.parametrize(("values", "expected"), [
    (["30-09-2015", "01-06-2020"], [dt.date(2015, 9, 30), dt.date(2020, 6, 1)]),  # dd-mm-yyyy
    (["15 Apr, 2021 00:02:00"], [dt.date(2021, 4, 15)]),  # Zoho
    (["44301", "44301.75"], [dt.date(2021, 4, 15), dt.date(2021, 4, 15)]),  # Excel serial days
    (["3/11/2025 0:00", "3/15/2017 2:05 PM"], [dt.date(2025, 3, 11), dt.date(2017, 3, 15)]),
])
def test_export_date_layouts(values, expected):
    converted = parsing.to_date(pa.array(values))
    assert converted.values.to_pylist() == expected
    assert not converted.invalid.any()


def test_a_column_mixing_layouts_reads_what_is_unambiguous_and_rejects_the_rest():
    converted = parsing.to_date(pa.array(["9/30/2015", "01-06-2020", "13-06-2020", "05/05/2020"]))
    assert converted.values.to_pylist() == [dt.date(2015, 9, 30), dt.date(2020, 6, 1), dt.date(2020, 6, 13),
                                            dt.date(2020, 5, 5)]
    (ambiguous, reason), = converted.problems
    assert ambiguous.tolist() == [False, False, False, False]  # dashes told day-first (13-06)
    converted = parsing.to_date(pa.array(["9/30/2015", "01-06-2020"]))
    (ambiguous, reason), = converted.problems
    assert ambiguous.tolist() == [False, True] and "ambiguous date" in reason
    assert not converted.invalid.any()


def test_amounts_with_trailing_spaces_and_percentages():
    amount, currency = parsing.split_amount(parsing.clean_text(pa.array(["$177,000.00 ", "¥8,800"])))
    assert amount.values.to_pylist() == ["177000.00", "8800"]
    assert currency.to_pylist() == ["USD", "CNY"]
    assert parsing.to_numeric(pa.array(["100%", "12.5"])).values.to_pylist() == ["100", "12.5"]


def test_summary_and_footer_rows_are_rejected_with_their_own_reason():
    data = (b"Opportunity ID,Opportunity Name,Stage,Amount\n006A,Big deal,Closed Won,100\n"
            b",,,\nTotal,,,100\n\"Confidential Information - Do Not Distribute\",,,\n")
    records = read_records(data, "report.csv")
    found = match(CRM, records.column_names, "report.csv")
    checked = validate(records, found)
    assert checked.good.num_rows == 1
    reasons = {number: reason for number, _, reason in checked.rejected}
    assert reasons[3].startswith("a summary or footer row") and reasons[4].startswith("a summary or footer")
    assert "is required but empty" in reasons[2]
