"""Amounts, rates and dates as the forms print them."""

import datetime
from decimal import Decimal

import pytest

from applications.documents.context import chinese_amount, chinese_date, rate, yuan
from applications.documents.text import PLACEHOLDER, clean_text


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (Decimal("19440"), "19,440.00"),
        (Decimal("0"), "0.00"),
        (Decimal("0.005"), "0.01"),  # half-up to the fen
        (Decimal("1234567.894"), "1,234,567.89"),
        (Decimal("0.1") + Decimal("0.2"), "0.30"),
        (None, ""),
    ],
)
def test_amounts_have_two_decimals_and_thousands_separators(value, printed):
    assert yuan(value) == printed


def test_amounts_are_never_floats():
    with pytest.raises(TypeError):
        yuan(0.1)  # a float reaching a form is a bug, not something to round


@pytest.mark.parametrize(
    ("value", "capitals"),
    [
        ("32775.00", "叁万贰仟柒佰柒拾伍元整"),
        ("19440.00", "壹万玖仟肆佰肆拾元整"),
        ("10005.00", "壹万零伍元整"),
        ("100000.00", "壹拾万元整"),
        ("10050.00", "壹万零伍拾元整"),
        ("100000001.00", "壹亿零壹元整"),
        ("101000000.00", "壹亿零壹佰万元整"),
        ("1.05", "壹元零伍分"),
        ("10.50", "壹拾元伍角整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0.00", "零元整"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ],
)
def test_amounts_in_capitals(value, capitals):
    assert chinese_amount(Decimal(value)) == capitals


def test_rates_and_dates():
    assert rate(Decimal("0.0800")) == "8.00%"
    assert rate(Decimal("0.1600")) == "16.00%"
    assert chinese_date(datetime.date(2026, 1, 5)) == "2026年1月5日"
    # Stored in UTC, printed as the day in China.
    assert chinese_date(datetime.datetime(2026, 1, 4, 17, 0, tzinfo=datetime.UTC)) == "2026年1月5日"


def test_clean_text_keeps_ordinary_and_rare_name_characters():
    for text in (
        "张伟",
        "吴喆",
        "王堃",
        "Zhang Wei",
        "杭州市西湖区文三路 90 号",
        "①号楼",
        "ASCII <&> 'quotes'",
    ):
        assert clean_text(text) == text


def test_clean_text_removes_controls_and_bidi_overrides_and_marks_missing_characters():
    assert clean_text("张\x00伟\x0b") == "张伟"
    assert clean_text("张\u202e伟\u200b") == "张伟"
    assert clean_text("一\r\n二\r三\t四") == "一\n二\n三 四"
    assert clean_text("张𠀀伟") == f"张{PLACEHOLDER}伟"
