"""Normalisers: dates in many spellings, money in digits and words, counts."""
from __future__ import annotations

from datetime import date

from hypothesis import given, strategies as st

from pipeline.extract.normalise import (end_of_term, find_money, parse_count, parse_date, parse_money,
                                        parse_percent, words_to_number)

_ONES = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
_TEENS = ["Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
_TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _below_thousand(n: int) -> str:
    parts = []
    if n >= 100:
        parts.append(f"{_ONES[n // 100]} Hundred")
        n %= 100
    if 10 <= n < 20:
        parts.append(_TEENS[n - 10])
    else:
        if n >= 20:
            parts.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
        elif n:
            parts.append(_ONES[n])
    return " ".join(parts)


def spell(n: int) -> str:
    """English words for 1..999,999."""
    th, rest = divmod(n, 1000)
    out = []
    if th:
        out.append(_below_thousand(th) + " Thousand")
    if rest:
        out.append(_below_thousand(rest))
    return " ".join(out)


@given(st.integers(min_value=1, max_value=999_999), st.integers(min_value=0, max_value=99))
def test_money_in_words_and_digits_agree(n, cents):
    text = f"{spell(n)} and {cents:02d}/100 Dollars (${n:,}.{cents:02d})"
    assert parse_money(text) == round(n + cents / 100, 2)


@given(st.integers(min_value=1, max_value=999_999))
def test_words_to_number_roundtrip(n):
    assert words_to_number(spell(n)) == n


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31)))
def test_date_spellings_roundtrip(d):
    month = d.strftime("%B")
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    for text in (f"the {d.day}{suffix} day of {month}, {d.year}", f"{d.month:02d}/{d.day:02d}/{d.year}",
                 f"{d.day} {month} {d.year}", f"{month} {d.day}, {d.year}", d.isoformat()):
        assert parse_date(text) == d, text


def test_day_first_for_uk_slashes():
    assert parse_date("01/03/2025", day_first=True) == date(2025, 3, 1)
    assert parse_date("01/03/2025") == date(2025, 1, 3)
    assert parse_date("25/03/2025") == date(2025, 3, 25)


def test_invalid_dates_are_not_dates():
    assert parse_date("February 30, 2025") is None


def test_currencies_including_edgar_ps_for_pound():
    found = [(a, c) for a, c, _, _ in find_money("PS253,548 and £2,075.00 and €32,100 and C$5,000 and $1.50")]
    assert found == [(253548.0, "GBP"), (2075.0, "GBP"), (32100.0, "EUR"), (5000.0, "CAD"), (1.5, "USD")]


def test_counts_and_percents():
    assert parse_count("sixty (60)") == 60
    assert parse_count("twelve") == 12
    assert words_to_number("sixtieth") == 60
    assert parse_percent("three percent (3%)") == 3.0
    assert parse_percent("two and one-half percent") is None or parse_percent("2.5%") == 2.5


def test_end_of_term():
    assert end_of_term(date(2024, 9, 1), 60) == date(2029, 8, 31)
    assert end_of_term(date(2026, 12, 15), 48) == date(2030, 12, 14)


def test_money_in_the_common_currencies_including_indian_grouping():
    from pipeline.extract.normalise import find_money

    cases = {"rent of Rs. 1,50,000 per month": (150000.0, "INR"), "INR 75,000": (75000.0, "INR"),
             "₹2,40,000.50": (240000.5, "INR"), "AUD 4,500": (4500.0, "AUD"), "A$ 4,500": (4500.0, "AUD"),
             "CAD 3,000": (3000.0, "CAD"), "£1,200": (1200.0, "GBP"), "EUR 900": (900.0, "EUR"),
             "US$ 1,000,000": (1000000.0, "USD"), "5,000 rupees": (5000.0, "INR")}
    for text, (amount, code) in cases.items():
        found = list(find_money(text))
        assert found and found[0][:2] == (amount, code), text
    assert list(find_money("within 5 years")) == []


def test_day_first_judged_from_the_documents_own_dates():
    from pipeline.extract.normalise import day_first_by_context

    assert day_first_by_context("dated 7 February 2007; rent due 25/03/2007; review on 03/04/2012")
    assert not day_first_by_context("dated February 7, 2007; rent due 03/25/2007; review on 03/04/2012")
    assert not day_first_by_context("no dates at all")
