"""Volumes, rates and the demo period, kept in one place so docs and tests can quote them."""

from __future__ import annotations

import datetime as dt

# The Maven export covers engage/close dates 2016-10-20 .. 2017-12-31; everything we
# generate stays inside this window so joins with the real export look plausible.
PERIOD_START = dt.date(2016, 10, 1)
PERIOD_END = dt.date(2017, 12, 31)
N_DAYS = (PERIOD_END - PERIOD_START).days + 1  # 457 day indices: 0 .. 456
LAST_DAY = N_DAYS - 1
DAY = 86_400
END_SEC = N_DAYS * DAY - 1  # seconds since PERIOD_START 00:00, inclusive upper bound

# Lead rows per scale unit, by lead channel (sum = 10,000 per unit).
LEADS_PER_UNIT = {
    "web_forms": 3_500,
    "marketing_events": 2_500,
    "referrals": 1_000,
    "ad_leads": 3_000,
}
ACTIVITIES_PER_UNIT = 100_000
HUBSPOT_CONTACTS_PER_UNIT = 400
# Only used without a real Maven export: synthetic opportunities per unit.
SYNTH_OPPORTUNITIES_PER_UNIT = 2_400

# Identity / funnel shape.
DUPLICATE_PERSON_SHARE = 0.15  # share of lead rows that are a repeat appearance of a person
MAX_CONVERTED_SHARE = 0.25  # at most this share of people convert into (Maven) opportunities
SALESFORCE_UNCONVERTED_SHARE = 0.30  # unconverted people that still made it into the CRM report
LEAD_CREATED_DAYS_BEFORE_ENGAGE = (1, 60)
REPEAT_APPEARANCE_MAX_DAYS = 120  # a person's later channel rows follow the first within this
LEAD_ACTIVITY_WINDOW_DAYS = 90  # activities on unconverted leads stop this long after creation
OPP_ACTIVITY_SHARE = 0.30  # share of activities linked to an opportunity ...
OPP_ACTIVITY_CAP = 15  # ... capped at this many per opportunity on average
INVOICE_SPLIT_PROBS = (0.6, 0.3, 0.1)  # a won deal is billed in 1, 2 or 3 invoices
SURVEYED_WON_SHARE = 0.35  # won deals whose account answers a survey

# Messiness (per row and field unless stated otherwise).
INVALID_ROW_RATE = 0.0075  # invalid rows added per file: round(rate * valid rows), <= 1%
INVALID_SHARE_RANGE = (0.005, 0.010)  # resulting share in files of >= 250 rows; files of
# 100-249 rows get 1-2 invalid rows, files under 100 rows none
MISSING_OPTIONAL_RATE = 0.10  # optional text fields left empty
MISSING_EMAIL_RATE = 0.08
MISSING_PHONE_RATE = 0.15  # never together with a missing email on a valid row
EMAIL_CASE_RATE = 0.12  # "John.Smith@Gmail.com", "JOHN.SMITH@GMAIL.COM"
EMAIL_WHITESPACE_RATE = 0.05  # leading/trailing blanks or tabs
FULLWIDTH_RATE = 0.005  # "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", full-width digits in phones
FULLWIDTH_RATE_CN = 0.03  # same, in files from Chinese tools
NAME_TYPO_RATE = 0.02
COMPANY_TYPO_RATE = 0.03
COMPANY_VARIANT_RATE = 0.08  # "ACME CORPORATION", suffix dropped or added
PINYIN_NAME_RATE = 0.5  # Chinese people written in pinyin in English-language files
INJECTION_ROWS_PER_FILE = 3  # rows carrying an injection string as data (per file)

MAX_ROWS_PER_FILE = 500_000  # big channels are split into parts of at most this many rows
