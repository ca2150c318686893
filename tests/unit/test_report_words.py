"""The report's number, money, percent and date formats per language (Babel, CLDR)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from salesops.report.i18n import TEXT, Words


@pytest.mark.parametrize(
    ("lang", "value", "cents", "shown"),
    [
        ("en", "1338466", False, "USD 1,338,466"),
        ("en", "80962.18", True, "USD 80,962.18"),
        ("en", "-1250.5", True, "-USD 1,250.50"),
        ("zh", "1338466", False, "US$133.8万"),
        ("zh", "12345000", False, "US$1,234.5万"),
        ("zh", "123456789", False, "US$1.2亿"),
        ("zh", "9999", False, "US$9,999"),
        ("zh", "24712.34", True, "US$24,712.34"),  # to the cent: never grouped in 万
    ],
)
def test_money_per_language(lang, value, cents, shown):
    assert Words(lang).money(Decimal(value), cents=cents) == shown


def test_percent_change_points_and_months():
    en, zh = Words("en"), Words("zh")
    assert en.percent(Decimal("0.8284")) == "82.8%"
    assert en.change(Decimal("1338466"), Decimal("1025713")) == "+30.5%"
    assert en.change(Decimal("0.5"), Decimal("0"), ratio=True) == "+50.0 pts"
    assert zh.change(Decimal("0.7849"), Decimal("0.5286"), ratio=True) == "+25.6 个百分点"
    assert en.change(Decimal("5"), Decimal("0")) == "—"  # no percent change from zero
    assert en.change(None, Decimal("1")) == "—"
    assert en.month(date(2017, 6, 1)) == "June 2017"
    assert zh.month(date(2017, 6, 1)) == "2017年6月"
    assert zh.number(Decimal("1234567")) == "1,234,567"


def test_every_text_has_both_languages_and_unknown_language_is_refused():
    assert all(set(v) == {"en", "zh"} and all(v.values()) for v in TEXT.values())
    with pytest.raises(ValueError, match="choose one of en, zh"):
        Words("fr")


def test_every_training_measure_has_a_name_and_a_chinese_suggestion():
    """The measures training_needs computes (read from its SQL) are all named in both languages."""
    import re
    from pathlib import Path

    from salesops.report.i18n import METRICS, TRAINING_ZH

    model = Path(__file__).resolve().parents[2] / "dbt/models/marts/performance/training_needs.sql"
    measures = set(re.findall(r"'([a-z_]+)',\s*(?:null|'[a-z]+')", model.read_text()))
    assert measures and measures == set(METRICS) == set(TRAINING_ZH)
