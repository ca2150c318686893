"""Small hand-written channel files: what each channel really sends, good and bad.

Each sample states how many records it has and how many the contract must reject, so a
test can check ``rows_in = rows_loaded + rows_rejected`` against an independent count.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    channel: str
    name: str
    content: bytes
    rows_in: int
    rows_rejected: int


def _xlsx(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _jsonl(objects: list) -> bytes:
    return "\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)
                     for o in objects).encode("utf-8")


INJECTION = "Robert'); DROP TABLE raw.ad_leads;--"

GOOD = [
    Sample("web_forms", "forms.jsonl", _jsonl([
        {"submission_id": "W1", "submitted_at": "2017-03-15T10:00:00Z", "email": "A@x.com",
         "first_name": "Ann", "utm_source": "google", "consent": True, "referrer": "x"},
        {"submission_id": "W2", "submitted_at": "2017-03-15T18:00:00+08:00", "phone": "+86 138 0013 8000"},
        {"submission_id": "W3", "submitted_at": "not a time", "email": "b@x.com"},  # bad timestamp
        {"submission_id": "W4", "submitted_at": "2017-03-16T09:00:00Z"},  # neither email nor phone
        "{broken json",
    ]), rows_in=5, rows_rejected=3),
    Sample("marketing_events", "attendees_gbk.csv", (
        "活动编号,活动名称,活动日期,姓名,邮箱,手机,公司\n"
        "EV1,上海峰会,2017年3月15日,王伟,wang@x.cn,13800138000,华为\n"
        "EV1,上海峰会,2017年3月15日,李娜,,139 0013 9000,腾讯\n"
        "EV1,上海峰会,2017年13月45日,张三,z@x.cn,,阿里\n"
    ).replace("活动编号", "event_id").encode("gb18030"), rows_in=3, rows_rejected=1),
    Sample("marketing_events", "webinar.xlsx", _xlsx([
        ["Event ID", "Event Name", "Event Date", "First Name", "Last Name", "Email", "Attended"],
        ["WB7", "Pricing webinar", "03/15/2017", "Joe", "Smith", "joe@x.com", "Yes"],
        ["WB7", "Pricing webinar", "03/15/2017", "Sue", "Lee", "sue@x.com", "maybe"],
    ]), rows_in=2, rows_rejected=1),
    Sample("referrals", "referrals.csv", (
        "referral_id,referral_date,referrer_type,referrer_name,referee_name,referee_email,"
        "estimated_deal_value,currency\n"
        'R1,2017-02-01,customer,Acme,Jo Doe,jo@x.com,"$12,500.00",\n'
        'R2,2017-02-02,partner,Betatech,Li Lei,li@x.cn,"¥8,800",CNY\n'
        'R3,2017-02-03,partner,Betatech,Eva,eva@x.de,"€1.234,50",\n'
        'R4,2017-02-04,alien,Zorg,Zed,z@x.com,N/A,\n'
    ).encode(), rows_in=4, rows_rejected=1),
    Sample("ad_leads", "facebook.tsv", (
        "id\tcreated_time\tplatform\tcampaign_name\tfull_name\temail\tphone_number\n"
        "L1\t2017-03-15T10:00:00+0000\tfacebook\tQ1\tAnn Lee\tANN@X.COM\t+1-415-555-0123\n"
        f"L2\t2017-03-15T11:00:00+0000\tinstagram\tQ1\t{INJECTION}\trob@x.com\t\n"
        "\t2017-03-15T12:00:00+0000\tfacebook\tQ1\tNo Id\tnoid@x.com\t\n"
    ).encode("utf-16"), rows_in=3, rows_rejected=1),
    Sample("activities", "activities.csv", (
        "activity_id,type,activity_date,sales_agent,lead_id,email,deal_id,direction,duration\n"
        "A1,Call,2017-03-15 10:00,Moses Frase,L1,,,outbound,12\n"
        "A2,email,2017-03-15 11:00,Moses Frase,,a@x.com,,outbound,\n"
        "A3,meeting,2017-03-16 09:30,Moses Frase,,,1C1I7A6R,inbound,45\n"
        "A4,fax,2017-03-16 09:30,Moses Frase,L1,,,outbound,5\n"
        "A5,task,2017-03-16 09:30,Moses Frase,,,,outbound,5\n"
        "A6,call,2017-03-16 09:30,Moses Frase,L1,,,outbound,-3\n"
    ).encode("utf-8-sig"), rows_in=6, rows_rejected=3),
    Sample("orders", "orders.xlsx", _xlsx([
        ["Order Number", "Deal ID", "Customer", "Invoice Date", "Product", "Qty", "Price", "Total",
         "Currency", "Payment Status"],
        ["O1", "1C1I7A6R", "Cancity", "2017-03-01", "GTX Plus Basic", 1, "1,054.00", "$1,054.00", "USD",
         "paid"],
        ["O2", "Z063OYW0", "Isdom", "2017-03-11", "GTX Pro", 1, 4514, 4514, None, "open"],
        ["O3", "Z063OYW0", "Isdom", "someday", "GTX Pro", 1, 10, 10, "USD", "open"],
        ["O4", "Z063OYW0", "Isdom", "2017-03-12", "GTX Pro", 1, "€10", "€10", "USD", "open"],
    ]), rows_in=4, rows_rejected=2),
    Sample("surveys", "nps.csv", (
        b"response_id;date;survey;rating;account;email;comment\n"
        b"S1;15.03.2017;NPS;9;Cancity;a@x.com;great\n"
        b"S2;16.03.2017;csat;4;Isdom;b@x.com;\"ok; fine\"\n"
        b"S3;17.03.2017;nps;11;Isdom;c@x.com;too high\n"
        b"S4;18.03.2017;nps;7;Isdom;c@x.com;extra;field\n"
    ), rows_in=4, rows_rejected=2),
    Sample("crm_export", "salesforce_leads.csv", (
        b"Lead ID,First Name,Last Name,Email,Phone,Company / Account,Lead Source,Lead Status,"
        b"Lead Owner,Create Date,Converted Opportunity ID\n"
        b"00Q1,Ann,Lee,ann@x.com,,Cancity,Web,Converted,Moses Frase,3/1/2017,1C1I7A6R\n"
        b"00Q2,Bob,Ray,,,Isdom,Event,Open,Moses Frase,3/2/2017,\n"
    ), rows_in=2, rows_rejected=1),
    Sample("crm_export", "hubspot_deals.csv", (
        b"Record ID,Deal Name,Deal Stage,Amount,Currency,Create Date,Close Date,Deal owner\n"
        b"901,Cancity renewal,closedwon,\"2,500\",EUR,2017-01-05 10:00,2017-02-01 00:00,Moses Frase\n"
    ), rows_in=1, rows_rejected=0),
]

# Files that are not the channel's format at all: refused whole, with a clear error.
WRONG = [
    Sample("web_forms", "orders_by_mistake.jsonl", _jsonl([{"order_id": "O1", "amount": 3}]), 1, 1),
    Sample("orders", "leads.csv", b"lead_id,email\nL1,a@x.com\nL2,b@x.com\n", 2, 2),
    Sample("activities", "empty.csv", b"", 0, 0),
    Sample("surveys", "binary.csv", bytes(range(256)) * 4, 0, 0),
    Sample("crm_export", "unknown_crm.csv", b"Deal,Value\nX,1\n", 1, 1),
]
