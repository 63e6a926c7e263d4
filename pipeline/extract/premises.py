"""The premises: street address, suite/unit/floor, leased area."""
from __future__ import annotations

import re

from pipeline.extract.doctext import DocText, Hit

_STREET_TYPES = (r"(?:Street|St|Avenue|Ave|Boulevard|Blvd|Road|Rd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|"
                 r"Circle|Cir|Highway|Hwy|Plaza|Square|Sq|Terrace|Trail|Row|Crescent|Close|Mews|Quay|Wharf|"
                 r"Walk|Pike|Turnpike|Expressway|Freeway|Center|Centre)")
_POSTCODE = r"(?:[A-Z]\d{2}\s?[A-Z0-9]{4}|\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]{1,2}\d{1,2}[A-Z]?)"
_COMPONENT = (r"(?!(?:Suite|Unit|Floor|Attention|Attn|Room|Apartment|Building|Containing|Together|Tel|Fax|LLC|L\.?L\.?C|"
              r"Inc|Ltd|LP|L\.P|Limited|Corporation)\b)(?![A-Z]{1,2}\d)[A-Z][A-Za-z.'-]+"
              r"(?:(?<!\.)\s+(?!Suite|Unit)(?![A-Z]{1,2}\d)[A-Z][A-Za-z.'-]+){0,2}")
ADDRESS_RE = re.compile(
    rf"\b\d{{1,6}}[A-Z]?(?:[-/]\d{{1,6}})?\s+(?:[A-Z0-9][A-Za-z0-9.'-]*\s+){{0,4}}{_STREET_TYPES}\b\.?"
    rf"(?:\s*,\s*(?:{_COMPONENT})){{0,3}}(?:\s*,?\s*{_POSTCODE}\b)?"
)
_ADDRESSEE = re.compile(r"\b(?:To|From)\s*:\s", re.I)  # the addressee block of a letter or form
_POSITIVE = re.compile(r"premises|located at|known as|property|building|demise|leases? to|lets? to|apartment|"
                       r"land|situated|address of the premises|site", re.I)
_NEGATIVE = re.compile(r"notice|address of (?:landlord|tenant|lessor|lessee)|c/o|whose address|registered office|"
                       r"sent to|attention|copy to|payable at|principal (?:office|place)|broker|with a copy|"
                       r"mailing|remit|offices? at|residing|address:|care of|bank", re.I)


def _context_score(dt: DocText, start: int, end: int) -> float:
    before, _ = dt.window(start, end, 160, 0)
    near = before[-70:]
    if _NEGATIVE.search(near) or _ADDRESSEE.search(near):
        return 0.0
    if re.search(r"\b(?:Ltd|Limited|LLC|L\.L\.C|Inc|Corp|Corporation|L\.?P|plc)\.?,?\s*$", before):
        return 0.0  # a party's own address follows its name: not the premises
    score = 0.55
    if _POSITIVE.search(before[-120:]):
        score = 0.85
    if _NEGATIVE.search(before[-160:-70]):
        score -= 0.15
    return score


_LAND_LEAD = re.compile(r"(?:land|buildings?|property|premises|site|building\s+located)(?:\s+and\s+buildings?)?\s+"
                        r"(?:at|known\s+as|situated\s+(?:at|on|near)|located\s+(?:at|on|near))\s+(?:the\s+)?$", re.I)
NAMED_ADDRESS_RE = re.compile(
    rf"\b(?:[A-Z][A-Za-z'-]+\s+){{1,3}}{_STREET_TYPES}\b\.?(?:\s*,\s*(?:{_COMPONENT})){{0,3}}\s*,?\s*{_POSTCODE}\b")
_DIRECTION = r"(?:north|south|east|west|north-?east|north-?west|south-?east|south-?west|N|S|E|W|NE|NW|SE|SW)(?:erly)?"
CORNER_RE = re.compile(
    rf"\b{_DIRECTION}\s+corner\s+of\s+[A-Z0-9][\w.'-]*(?:\s+[A-Z0-9][\w.'-]*){{0,3}}\s+and\s+"
    rf"[A-Z0-9][\w.'-]*(?:\s+[A-Z0-9][\w.'-]*){{0,3}}?\s+{_STREET_TYPES}\b\.?")


def extract_address(dt: DocText) -> Hit | None:
    """The premises street address ('4570 Lakeshore Boulevard, Dallas, Texas 75201'), else a described location."""
    return _numbered_address(dt) or _described_address(dt)


def _described_address(dt: DocText) -> Hit | None:
    """Premises without a street number: 'the property known as Mill Road, Leeds LS2 1AB', 'SW corner of A and B Ave.'."""
    return _named_or_corner(dt)


def _named_or_corner(dt: DocText) -> Hit | None:
    for rx in (NAMED_ADDRESS_RE, CORNER_RE):
        for m in rx.finditer(dt.text):
            before, _ = dt.window(m.start(), m.end(), 80, 0)
            if not _LAND_LEAD.search(before[-60:]) and not re.search(r"corner", m.group(0)[:20], re.I):
                continue
            if not re.search(r"premises|land|property|building|situated|located|lease", before, re.I):
                continue
            if _context_score(dt, m.start(), m.end()) <= 0:
                continue
            value = " ".join(m.group(0).split()).rstrip(",. ")
            return Hit(value, m.start(), m.start() + len(m.group(0).rstrip(",. ")), 0.7)
    return None


_CITY = re.compile(r"\bCity\s+(?:and\s+County\s+)?of\s+((?:[A-Z][\w'-]*\s+){0,3}[A-Z][\w'-]*)")
_STATE = re.compile(r"\b(?:State|Commonwealth|Province)\s+of\s+((?:[A-Z][a-z]+\s+)?[A-Z][a-z]+)")


def _city_state_in_sentence(dt: DocText, pos: int) -> tuple[str, list[tuple[int, int]]] | None:
    """'City, State' named in the sentence around pos, with the spans that state them."""
    s, e = dt.sentence_bounds(pos, 500)
    city = _CITY.search(dt.text, s, e)
    state = _STATE.search(dt.text, s, e)
    if city is None or state is None:
        return None
    return f"{city.group(1)}, {state.group(1)}", [(city.start(), city.end()), (state.start(), state.end())]


def _numbered_address(dt: DocText) -> Hit | None:
    best: Hit | None = None
    for m in ADDRESS_RE.finditer(dt.text):
        value = " ".join(m.group(0).split()).rstrip(",. ")
        end = m.start() + len(m.group(0).rstrip(",. "))
        score = _context_score(dt, m.start(), m.end())
        if score <= 0:
            continue
        extra: list[tuple[int, int]] = []
        if "," not in value and not re.search(_POSTCODE + r"$", value):
            # a bare street in the premises sentence: its city and state are named there ('in the City of X,
            # County of Y, State of Z ... known as 10 Oak Avenue'); otherwise not enough to identify the premises
            place = _city_state_in_sentence(dt, m.start()) if score >= 0.85 else None
            if place is None:
                continue
            value = f"{value}, {place[0]}"
            extra = place[1]
        hit = Hit(value, m.start(), end, score, extra=extra)
        if best is None or hit.score > best.score + 0.05:
            best = hit
    return best


_SUITE_RE = re.compile(r"\b(Suite|Unit|Apartment|Apt\.?|Space|Flat|Office)\s+(?:No\.?\s*)?"
                       r"((?=[A-Z0-9-]*\d)[A-Z0-9]{1,6}(?:-[A-Z0-9]{1,5})?)\b")
_FLOOR_RE = re.compile(r"\b(?:(?:parts?|portions?)\s+(?:of\s+)?(?:the\s+)?)?((?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|"
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
    return _extract_floor(dt)


_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                  "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}


def floor_label(text: str) -> str:
    """'part of the sixth floor' -> 'part 6th floor'; 'ground floor' stays as written."""
    low = " ".join(text.lower().split())
    part = "part " if re.match(r"(?:parts?|portions?)\b", low) else ""
    m = re.search(r"(\w+)\s+floor", low)
    word = m.group(1) if m else low
    n = _ORDINAL_WORDS.get(word)
    if n is None and re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", word):
        n = int(word[:-2])
    if n is None:
        return f"{part}{word} floor"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{part}{n}{suffix} floor"


def _extract_floor(dt: DocText) -> Hit | None:
    """The floor of the premises: the floor named most often in premises wording (the body outvotes a summary)."""
    found: dict[str, list[Hit]] = {}
    for m in _FLOOR_RE.finditer(dt.text):
        before, _ = dt.window(m.start(), m.end(), 200, 0)
        if not re.search(r"premises|space|demise|leased|property", before, re.I) or _NEGATIVE.search(before[-60:]):
            continue
        label = floor_label(m.group(0))
        key = label.removeprefix("part ")
        score = 0.6 if re.search(r"premises|demise", before[-120:], re.I) else 0.5
        found.setdefault(key, []).append(Hit(label, m.start(), m.end(), score))
    if not found:
        return None
    # most mentions wins; ties go to the earliest mention
    key = max(found, key=lambda k: (len(found[k]), -found[k][0].start))
    hits = found[key]
    first = next((h for h in hits if h.value.startswith("part ")), hits[0])
    return Hit(first.value, first.start, first.end, min(0.8, first.score + 0.05 * (len(hits) - 1)))


_AREA_RE = re.compile(
    r"(?<![\d,.$])(\d{1,3}(?:,\d{3})+|\d{3,7})(?:\.\d+)?\s*(?:\(\s*[\d,]+\s*\)\s*)?"
    r"(?:(rentable|usable|net\s+internal|net\s+rentable|gross\s+leasable|leasable|gross|net)\s+)?"
    r"(square\s+feet|square\s+foot|sq\.?\s*ft\.?|sf\b|rsf\b|square\s+met(?:er|re)s?|sq\.?\s*m\b|sqm\b|m2\b)",
    re.I)
_AREA_NEG = re.compile(r"\bper\b|for each|of each|allowance|parking|\bup to\b.{0,10}$", re.I)
_AREA_POS = re.compile(r"contain|approximately|consist|comprising|area|premises|rentable|agreed|deemed|measur|is\s*$|"
                       r"of\s*$|total", re.I)
SQM_TO_SQFT = 10.7639
_PREMISES_LABEL = re.compile(r"(?:premises|demised\s+premises)\s+(?:rentable\s+|usable\s+|leasable\s+)?(?:area|size)\b|"
                             r"(?:area|size)\s+of\s+(?:the\s+)?(?:demised\s+)?premises\b", re.I)
_DEFINED_AFTER = re.compile(r"[^.;]{0,50}?\(\s*(?:the|each\s+an?|an?)?\s*\"([^\"]{2,40})\"\s*\)")


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
        if re.fullmatch(r"\.\d{3}", dt.text[m.start(1) + len(m.group(1)):m.start(1) + len(m.group(1)) + 4]):
            continue  # '233.621 square feet': a garbled or foreign thousands separator, not a reliable figure
        score = 0.8 if _AREA_POS.search(before[-60:]) else 0.5
        if re.search(r"premises|demised|leased", before):
            score += 0.05
        if _PREMISES_LABEL.search(before[-80:]):
            score += 0.1  # the Premises definition itself ('Premises Rentable Area: ...')
        other = _DEFINED_AFTER.match(dt.text, m.end(), min(len(dt.text), m.end() + 80))
        if other and not re.search(r"premises|demise", other.group(1), re.I):
            score -= 0.3  # the figure of another defined space ('(the "Expansion Space")')
        hit = Hit(int(value) if value == int(value) else value, m.start(), m.end(), score)
        if best is None or hit.score > best.score + 0.05:
            best = hit
    return best
