"""The premises: street address, suite/unit/floor, leased area."""
from __future__ import annotations

import re

from pipeline.extract.doctext import DocText, Hit
from pipeline.extract.normalise import words_to_number

_STREET_TYPES = (r"(?:Street|St|Avenue|Ave|Boulevard|Blvd|Road|Rd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|"
                 r"Circle|Cir|Highway|Hwy|Plaza|Square|Sq|Terrace|Trail|Circus|Row|Crescent|Close|Mews|Quay|Wharf|"
                 r"Walk|Pike|Turnpike|Expressway|Freeway|Center|Centre)")
_POSTCODE = r"(?:[A-Z]\d{2}\s?[A-Z0-9]{4}|\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]{1,2}\d{1,2}[A-Z]?)"
_COMPONENT = (r"(?!(?:Suite|Unit|Floor|Attention|Attn|Room|Apartment|Building|Containing|Together|Tel|Fax|LLC|L\.?L\.?C|"
              r"Inc|Ltd|LP|L\.P|Limited|Corporation)\b)(?![A-Z]{1,2}\d)[A-Z][A-Za-z.'-]+"
              r"(?:(?<!\.)\s+(?!Suite|Unit)(?![A-Z]{1,2}\d)[A-Z][A-Za-z.'-]+){0,2}")
ADDRESS_RE = re.compile(
    rf"\b\d{{1,6}}[A-Z]?(?:[-/]\d{{1,6}})?\s+(?:[A-Z0-9][A-Za-z0-9.'-]*\s+){{0,4}}?{_STREET_TYPES}\b\.?"
    rf"(?:\s*,\s*(?:{_COMPONENT})){{0,3}}(?:\s*,?\s*{_POSTCODE}\b)?"
)
_POSITIVE = re.compile(r"premises|located at|known as|property|building|demise|leases? to|lets? to|apartment|"
                       r"land|situated|address of the premises|site", re.I)
_NEGATIVE = re.compile(r"notice|address of (?:landlord|tenant|lessor|lessee)|c/o|whose address|registered office|"
                       r"sent to|attention|copy to|payable at|principal (?:office|place)|broker|with a copy|"
                       r"mailing|remit|offices? at|residing|address:|care of|bank", re.I)


def _context_score(dt: DocText, start: int, end: int) -> float:
    before, _ = dt.window(start, end, 160, 0)
    near = before[-70:]
    if _NEGATIVE.search(near):
        return 0.0
    score = 0.55
    if _POSITIVE.search(before[-120:]):
        score = 0.85
    if _NEGATIVE.search(before[-160:-70]):
        score -= 0.15
    return score


def extract_address(dt: DocText) -> Hit | None:
    """The premises street address ('4570 Lakeshore Boulevard, Dallas, Texas 75201')."""
    best: Hit | None = None
    for m in ADDRESS_RE.finditer(dt.text):
        value = " ".join(m.group(0).split()).rstrip(",. ")
        if "," not in value and not re.search(_POSTCODE + r"$", value):
            continue  # a bare street name: not enough to identify the premises
        score = _context_score(dt, m.start(), m.end())
        if score <= 0:
            continue
        hit = Hit(value, m.start(), m.start() + len(m.group(0).rstrip(",. ")), score)
        if best is None or hit.score > best.score + 0.05:
            best = hit
    return best


_SUITE_RE = re.compile(r"\b(Suite|Unit|Apartment|Apt\.?|Space|Flat|Office)\s+(?:No\.?\s*)?"
                       r"((?=[A-Z0-9-]*\d)[A-Z0-9]{1,6}(?:-[A-Z0-9]{1,5})?)\b")
_FLOOR_RE = re.compile(r"\b(?:(?:part|portion)\s+(?:of\s+)?(?:the\s+)?)?((?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|"
                       r"sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|ground|top)\s+floor)\b", re.I)


def extract_suite(dt: DocText, near: int | None) -> Hit | None:
    """Suite / unit / apartment identifier of the premises, or the floor when only a floor is given."""
    best: Hit | None = None
    for m in _SUITE_RE.finditer(dt.text):
        if m.group(1).lower() == "office" and not re.search(r"\d", m.group(2)):
            continue
        if "\n" in dt.raw[m.start():m.end()]:
            continue  # a label and a number on different lines ('Space\n150') are not a suite
        score = _context_score(dt, m.start(), m.end())
        if score <= 0:
            continue
        dist = abs(m.start() - near) if near is not None else 10_000
        if dist < 300:
            score = max(score, 0.85)
        elif score < 0.8:
            continue  # far from the premises and without premises wording: a notice or other address
        hit = Hit(m.group(2), m.start(), m.end(), score)
        if best is None or hit.score > best.score + 0.05:
            best = hit
    if best is not None:
        return best
    for m in _FLOOR_RE.finditer(dt.text):
        before, _ = dt.window(m.start(), m.end(), 200, 0)
        if re.search(r"premises|space|demise|leased", before) and not _NEGATIVE.search(before[-60:]):
            return Hit(m.group(1), m.start(1), m.end(1), 0.55)
    return None


_AREA_RE = re.compile(
    r"(?<![\d,.$])(\d{1,3}(?:,\d{3})+|\d{3,7})(?:\.\d+)?\s*(?:\(\s*[\d,]+\s*\)\s*)?"
    r"(?:(rentable|usable|net\s+internal|net\s+rentable|gross\s+leasable|leasable|gross|net)\s+)?"
    r"(square\s+feet|square\s+foot|sq\.?\s*ft\.?|sf\b|rsf\b|square\s+met(?:er|re)s?|sq\.?\s*m\b|sqm\b|m2\b)",
    re.I)
_AREA_NEG = re.compile(r"\bper\b|for each|of each|allowance|parking|\bup to\b.{0,10}$", re.I)
_AREA_POS = re.compile(r"contain|approximately|consist|comprising|area|premises|rentable|agreed|deemed|measur|is\s*$|"
                       r"of\s*$|total", re.I)
SQM_TO_SQFT = 10.7639


def extract_area(dt: DocText) -> Hit | None:
    """Rentable area of the premises in square feet (square metres converted)."""
    best: Hit | None = None
    for m in _AREA_RE.finditer(dt.text):
        before, after = dt.window(m.start(), m.end(), 80, 30)
        if _AREA_NEG.search(before[-25:]) or re.match(r"\s*(?:of\s+(?:the\s+)?)?(?:per|for each)\b", after):
            continue
        if re.match(r"\s*(?:per|/)\s", dt.lower[m.end():m.end() + 6]):
            continue
        value = float(m.group(1).replace(",", ""))
        unit = m.group(3).lower()
        metric = "met" in unit or unit.startswith("sq m") or unit in ("sqm", "m2") or unit.startswith("sq.m") or unit.startswith("sq. m")
        if metric:
            value = round(value * SQM_TO_SQFT)
        if value < 100:
            continue
        score = 0.8 if _AREA_POS.search(before[-60:]) else 0.5
        if re.search(r"premises|demised|leased", before):
            score += 0.05
        hit = Hit(int(value) if value == int(value) else value, m.start(), m.end(), score)
        if best is None or hit.score > best.score + 0.05:
            best = hit
    return best
