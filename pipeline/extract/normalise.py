"""Normalisers for lease text: dates in many spellings, money in digits and words, currencies, numbers."""
from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterator

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

_MONTH_RE = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
             r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_DAY_RE = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR_RE = r"(?:1[89]\d\d|2[01]\d\d)"

DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("day_of", re.compile(rf"(?:the\s+)?(?P<d>{_DAY_RE})\s+day\s+of\s+(?P<m>{_MONTH_RE}),?\s+(?P<y>{_YEAR_RE})", re.I)),
    ("mdy", re.compile(rf"\b(?P<m>{_MONTH_RE})\s+(?P<d>{_DAY_RE}),?\s+(?P<y>{_YEAR_RE})\b", re.I)),
    ("dmy", re.compile(rf"\b(?P<d>{_DAY_RE})\s+(?P<m>{_MONTH_RE}),?\s+(?P<y>{_YEAR_RE})\b", re.I)),
    ("iso", re.compile(rf"\b(?P<y>{_YEAR_RE})-(?P<mn>[01]?\d)-(?P<d>[0-3]?\d)\b")),
    ("slash", re.compile(rf"\b(?P<a>[0-3]?\d)[/.](?P<b>[0-3]?\d)[/.](?P<y>{_YEAR_RE})\b")),
]


def _mk_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str, day_first: bool = False) -> Iterator[tuple[date, int, int]]:
    """Every date in text as (date, start, end), non-overlapping, in order of position."""
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pat in DATE_PATTERNS:
        for m in pat.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            gd = m.groupdict()
            y = int(gd["y"])
            if kind == "slash":
                a, b = int(gd["a"]), int(gd["b"])
                if a > 12 or (day_first and b <= 12):
                    mo, d = b, a
                else:
                    mo, d = a, b
            elif kind == "iso":
                mo, d = int(gd["mn"]), int(gd["d"])
            else:
                mo = MONTHS.get(gd["m"].lower().rstrip("."), 0)
                d = int(re.sub(r"\D", "", gd["d"]))
            value = _mk_date(y, mo, d)
            if value is None:
                continue
            taken.append((m.start(), m.end()))
            found.append((value, m.start(), m.end()))
    found.sort(key=lambda t: t[1])
    return iter(found)


def day_first_by_context(text: str) -> bool:
    """Whether numeric dates such as 03/04/2025 read day-first, judged from the document's own unambiguous dates.

    Evidence: numeric dates whose first or second number exceeds 12, and written dates in day-month order
    ('7 February 2007', 'the 7th day of February') against month-day order ('February 7, 2007').
    """
    day_votes = month_votes = 0
    for kind, pat in DATE_PATTERNS:
        for m in pat.finditer(text):
            gd = m.groupdict()
            if kind == "slash":
                a, b = int(gd["a"]), int(gd["b"])
                day_votes += 2 * (a > 12 >= b)
                month_votes += 2 * (b > 12 >= a)
            elif kind == "dmy":
                day_votes += 1
            elif kind == "mdy":
                month_votes += 1
    return day_votes > month_votes


def parse_date(text: str, day_first: bool = False) -> date | None:
    """The first date in text, or None."""
    return next((d for d, _, _ in find_dates(text, day_first)), None)


def add_months(d: date, months: int) -> date:
    """d plus a number of calendar months (day clipped to the month's length)."""
    total = d.month - 1 + months
    y, m = d.year + total // 12, total % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def end_of_term(start: date, months: int) -> date:
    """Last day of a term of whole months starting on start."""
    if start.day == 1:
        last = add_months(start, months - 1)
        return date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    return date.fromordinal(add_months(start, months).toordinal() - 1)


def months_between(start: date, end: date) -> int:
    """Whole months from start to the day after end (inclusive term length)."""
    nxt = date.fromordinal(end.toordinal() + 1)
    return (nxt.year - start.year) * 12 + nxt.month - start.month


# ---------------------------------------------------------------- numbers in words

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
             "seventieth": 70, "eightieth": 80, "ninetieth": 90, "hundredth": 100}
NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"a", "and"}


def words_to_number(text: str) -> int | None:
    """'Twenty-Five Thousand Six Hundred' -> 25600; ordinals such as 'sixtieth' too; None if not a number."""
    words = [w for w in re.split(r"[\s-]+", text.lower().strip()) if w and w != "and"]
    if not words:
        return None
    total, current, seen = 0, 0, False
    for w in words:
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _ORDINALS:
            current += _ORDINALS[w]
        elif w.endswith("ieth") and w[:-4] + "y" in _TENS:
            current += _TENS[w[:-4] + "y"]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        elif w == "a" and not seen:
            current = 1
        else:
            return None
        seen = True
    return total + current if seen else None


_NUM_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|" \
            r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|" \
            r"thousand|and|a)"
# "sixty (60)", "(60)", "60", "sixty", "one hundred twenty (120)"
COUNT_RE = (rf"(?:(?:{_NUM_WORD}(?:[\s-]+{_NUM_WORD})*)\s*\(\s*\d+(?:\.\d+)?\s*\)|\d+(?:\.\d+)?|"
            rf"{_NUM_WORD}(?:[\s-]+{_NUM_WORD})*)")


def parse_count(text: str) -> float | None:
    """Number from 'sixty (60)', '60', '60.5', 'sixty'; the digits in parentheses win."""
    m = re.search(r"\(\s*(\d+(?:\.\d+)?)\s*\)", text)
    if m:
        return float(m.group(1))
    m = re.search(r"\d+(?:,\d{3})*(?:\.\d+)?", text)
    if m:
        return float(m.group(0).replace(",", ""))
    n = words_to_number(text)
    return float(n) if n is not None else None


# ---------------------------------------------------------------- money

CURRENCY_SYMBOLS = {"$": "USD", "us$": "USD", "usd": "USD", "c$": "CAD", "ca$": "CAD", "cad": "CAD", "cdn$": "CAD",
                    "£": "GBP", "gbp": "GBP", "ps": "GBP", "€": "EUR", "eur": "EUR", "a$": "AUD", "aud": "AUD",
                    "nis": "ILS", "ils": "ILS", "₪": "ILS", "chf": "CHF", "¥": "JPY", "jpy": "JPY",
                    "inr": "INR", "₹": "INR", "rs": "INR", "rs.": "INR", "rupees": "INR"}

# EDGAR renders "£" as "PS"; only accepted directly before digits.
MONEY_RE = re.compile(
    r"(?P<cur>US\$|C\$|CA\$|CDN\$|A\$|USD|CAD|GBP|EUR|NIS|ILS|CHF|JPY|AUD|INR|₹|\bRs\.?(?=\s?\d)|£|€|₪|¥|\$|"
    r"\bPS(?=\s?\d))\s?"
    r"(?P<num>\d{1,2}(?:,\d{2})+,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d{1,2})?(?!\d)"  # Indian grouping: 1,50,000
    r"|(?<![/\d.,])(?P<num2>\d{1,3}(?:,\d{3})+|\d+)(?P<dec2>\.\d{1,2})?\s?(?P<cur2>dollars|pounds|euros|rupees|USD|CAD|"
    r"GBP|EUR|AUD|INR)\b",
    re.I,
)


def find_money(text: str) -> Iterator[tuple[float, str, int, int]]:
    """Every amount of money as (amount, ISO currency, start, end)."""
    for m in MONEY_RE.finditer(text):
        if m.group("num"):
            num, dec, cur = m.group("num"), m.group("dec") or "", m.group("cur")
        else:
            num, dec, cur = m.group("num2"), m.group("dec2") or "", m.group("cur2")
        amount = float(num.replace(",", "") + dec)
        code = currency_code(cur)
        yield amount, code, m.start(), m.end()


def currency_code(symbol: str) -> str:
    """ISO 4217 code for a symbol or word ('$' -> USD, 'PS' -> GBP, 'pounds' -> GBP)."""
    s = symbol.lower().strip()
    if s in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[s]
    return {"dollars": "USD", "pounds": "GBP", "euros": "EUR"}.get(s, "USD")


def parse_money(text: str) -> float | None:
    """The amount in 'Twenty-Five Thousand and 00/100 Dollars ($25,000.00)', '$25,000', or words alone."""
    m = next(find_money(text), None)
    if m is not None:
        return m[0]
    wm = re.match(r"\s*([A-Za-z][A-Za-z\s-]*?)(?:\s+and\s+(\d{1,2})/100)?\s+(?:dollars|pounds|euros)\b", text, re.I)
    if wm:
        whole = words_to_number(wm.group(1))
        if whole is not None:
            return whole + (int(wm.group(2)) / 100 if wm.group(2) else 0.0)
    return None


def parse_percent(text: str) -> float | None:
    """'three percent (3%)' -> 3.0; '2.5%' -> 2.5; 'three percent' -> 3.0."""
    m = re.search(r"(\d+(?:\.\d+)?)\s?%", text)
    if m:
        return float(m.group(1))
    m = re.search(r"([A-Za-z\s-]+?)\s+(?:percent|per cent)", text, re.I)
    if m:
        n = words_to_number(m.group(1))
        return float(n) if n is not None else None
    return None


def round_cents(x: float) -> float:
    """Round half up to the cent (how leases round rent steps)."""
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
