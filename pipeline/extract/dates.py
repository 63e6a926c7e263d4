"""Commencement and expiration dates and the term length, with recital and possession distractors rejected."""
from __future__ import annotations

import re
from datetime import date

from pipeline.extract.doctext import DocText, Hit
from pipeline.extract.normalise import (COUNT_RE, add_months, end_of_term, find_dates, parse_count,
                                        words_to_number)

# Sentences about an earlier lease, early access or a status recital are not the lease's own dates.
_DISTRACTOR = re.compile(r"prior lease|existing lease|original lease|previous lease|whereas|early possession|"
                         r"currently scheduled|presently scheduled|scheduled to expire|is currently|originally|"
                         r"possession date|early access|recital|the lease dated|that certain lease", re.I)
_COMMENCE_CUE = re.compile(
    r"(?:commencement\s+date|term\s+commencement\s+date|lease\s+commencement\s+date)\W{0,4}(?:of\s+this\s+lease\s+)?"
    r"(?:is|shall\s+be|will\s+be|means|:|-)?\s*(?:on\s+)?$"
    r"|(?:commenc\w*|begin\w*|beginning|start\w*|effective)\s+(?:on\s+)?(?:and\s+including\s+)?(?:the\s+date\s+of\s+)?$"
    r"|\bfrom\s+(?:and\s+including\s+)?$|^\s*commencement\s*:?\s*$|term\s*:\s*$", re.I)
_COMMENCE_AFTER = re.compile(r"^\s*\(\s*(?:the\s+)?\"?(?:term\s+|lease\s+)?commencement\s+date\"?\s*\)", re.I)
_EXPIRE_CUE = re.compile(
    r"(?:expiration|expiry|termination|end)\s+date\W{0,4}(?:is|shall\s+be|will\s+be|means|:|-)?\s*(?:on\s+)?$"
    r"|(?:expir\w*|end\w*|terminat\w*)\s+(?:at\s+[^,;]{0,40}?\s+)?(?:on\s+)?$"
    r"|(?:up\s+to\s+and\s+including|through|until|to\s+and\s+including)\s+$", re.I)
_EXPIRE_AFTER = re.compile(r"^\s*\(\s*(?:the\s+)?\"?(?:lease\s+)?(?:expiration|expiry|termination)\s+date\"?\s*\)", re.I)


def _is_distractor(dt: DocText, pos: int) -> bool:
    s, e = dt.sentence_bounds(pos, 400)
    return bool(_DISTRACTOR.search(dt.text[s:e]))


def _date_hits(dt: DocText, cue: re.Pattern[str], after: re.Pattern[str], day_first: bool) -> list[Hit]:
    hits = []
    for value, s, e in find_dates(dt.text, day_first):
        before = dt.text[max(0, s - 70):s]
        score = 0.0
        if after.search(dt.text[e:e + 60]):
            score = 0.9
        elif cue.search(before):
            score = 0.85 if re.search(r"date", before[-30:], re.I) else 0.75
        if score and _is_distractor(dt, s):
            score = 0.0
        if score:
            hits.append(Hit(value.isoformat(), s, e, score))
    return hits


def _pick(hits: list[Hit]) -> Hit | None:
    if not hits:
        return None
    top = max(h.score for h in hits)
    return min((h for h in hits if h.score >= top - 0.1), key=lambda h: h.start)


def extract_commencement(dt: DocText, day_first: bool = False) -> Hit | None:
    """The lease commencement date (directly, or through the defined date the term commences on)."""
    return _pick(_date_hits(dt, _COMMENCE_CUE, _COMMENCE_AFTER, day_first)) or _commencement_by_definition(dt, day_first)


_COMMENCES_ON_TERM = re.compile(r"\bterm\b[^.;]{0,120}?\b(?:commence|begin)s?\s+(?:on|with)\s+(?:\w+\s+includ\w*\s+)?"
                                r"the\s+((?:[A-Z][a-z]+\s+){0,3}Date)\b")


def _commencement_by_definition(dt: DocText, day_first: bool) -> Hit | None:
    """'The term will commence on the Effective Date' + 'dated as of July 17, 2007 (the "Effective Date")'."""
    for m in _COMMENCES_ON_TERM.finditer(dt.text):
        name = re.escape(m.group(1))
        for d in re.finditer(rf"\(\s*(?:the|this)?\s*\"\s*{name}\s*\"\s*\)|\"\s*{name}\s*\"\s+(?:means|shall\s+mean)", dt.text):
            if d.group(0).startswith("("):
                window_start = max(0, d.start() - 60)
                found = list(find_dates(dt.text[window_start:d.start()], day_first))
                if not found:
                    continue
                when, s, e = found[-1]
                s, e = window_start + s, window_start + e
            else:
                found = list(find_dates(dt.text[d.end():d.end() + 80], day_first))
                if not found:
                    continue
                when, s, e = found[0]
                s, e = d.end() + s, d.end() + e
            return Hit(when.isoformat(), s, e, 0.65, extra=[(m.start(), m.end())])
    return None


def extract_expiration(dt: DocText, commencement: Hit | None, term: Hit | None, day_first: bool = False) -> Hit | None:
    """The expiration date, stated or computed from a 'last day of the Nth full calendar month' formula."""
    stated = _pick(_date_hits(dt, _EXPIRE_CUE, _EXPIRE_AFTER, day_first))
    if stated is not None:
        return stated
    if commencement is None:
        return None
    start = date.fromisoformat(commencement.value)
    m = re.search(r"last\s+day\s+of\s+the\s+([a-z-]+(?:\s+[a-z-]+)?)\s*(?:\((\d+)(?:st|nd|rd|th)\))?\s+(full\s+)?"
                  r"(?:calendar\s+)?month\s+(?:following|after)\s+(?:the\s+)?(?:term\s+)?commencement\s+date",
                  dt.text, re.I)
    if m and not _is_distractor(dt, m.start()):
        n = int(m.group(2)) if m.group(2) else words_to_number(m.group(1))
        if n:
            if m.group(3) and start.day != 1:
                first_full = add_months(date(start.year, start.month, 1), 1)
                end = end_of_term(first_full, n)
            else:
                end = end_of_term(start, n)
            return Hit(end.isoformat(), m.start(), m.end(), 0.75, extra=[(commencement.start, commencement.end)])
    # 'a term of N years/months commencing on <the commencement date>': the end is computed from both inputs
    if term is not None:
        sentence_start, sentence_end = dt.sentence_bounds(term.start, 400)
        if sentence_start <= commencement.start < sentence_end and re.search(
                r"(?:commenc|begin|start)\w*", dt.text[term.end:commencement.start], re.I):
            months = term.value
            if isinstance(months, int) and 0 < months <= 1200:
                end = end_of_term(start, months)
                return Hit(end.isoformat(), term.start, term.end, 0.6, extra=[(commencement.start, commencement.end)])
    return None


_TERM_RE = re.compile(rf"({COUNT_RE})\s*(?:\(\s*\d+\s*\)\s*)?(years?|months?)(?:\s+and\s+({COUNT_RE})\s*(?:\(\s*\d+\s*\)\s*)?months?)?\b",
                      re.I)
_TERM_CUE = re.compile(r"\bterm\b|duration|period\s+of|leasehold\s+estate|tenancy|lease\s+term|fixed\s+term", re.I)
_TERM_NEG = re.compile(r"extend|renew|extension|option|notice|within|thereafter|prior\s+to|before|after|warrant|"
                       r"guarant|amortiz|survive|confidential|interest|age\b|older|depreciat|statute|limitation", re.I)


def extract_term(dt: DocText) -> Hit | None:
    """Term length in months when the lease states it (as months or years)."""
    hits = []
    for m in _TERM_RE.finditer(dt.text):
        n = parse_count(m.group(1))
        if not n or n <= 0 or n > 1500:
            continue
        if m.group(1).lower() in ("a", "an") or re.match(r"-to-", dt.text[m.end():m.end() + 4]):
            continue  # 'a month-to-month tenancy', 'a year': not a stated term length
        months = n * 12 if m.group(2).lower().startswith("year") else n
        if m.group(3):
            months += parse_count(m.group(3)) or 0
        before = dt.text[max(0, m.start() - 90):m.start()]
        s, e = dt.sentence_bounds(m.start(), 300)
        sentence = dt.text[s:e]
        if not _TERM_CUE.search(before):
            continue
        if _TERM_NEG.search(before[-60:]) or re.match(r"\s*(?:prior|before|after|following|from\s+the\s+date|notice)",
                                                       dt.text[m.end():m.end() + 20], re.I):
            continue
        if re.search(r"option|renew|extension|extend", sentence, re.I) and not re.search(r"\bthe\s+term\s+of\s+this", sentence, re.I):
            continue
        score = 0.85 if re.search(r"term\s*(?:of\s+this\s+lease)?\s*(?:\(the\s+\"term\"\))?\s*(?::|shall\s+be|is|of)\s*(?:a\s+period\s+of\s+)?$|"
                                  r"duration|fixed\s+term\s+of|term:\s*$", before, re.I) else 0.7
        if re.search(r"(?:fraction|part|portion)\s+of\s+(?:any\s+)?$", before, re.I):
            continue  # 'proportionately for any fraction of a year'
        if _is_distractor(dt, m.start()) or _OTHER_LEASE.search(sentence):
            continue
        hits.append(Hit(int(months) if months == int(months) else months, m.start(), m.end(), score))
    return _pick(hits) or _term_from_last_month(dt)


# the term of another lease (the landlord's head lease, a prior lease) stated in a definition
_OTHER_LEASE = re.compile(r"\b(?:superior|head|prior|existing|underlying|original|hypothetical|notional)\s+lease\b|"
                          r"willing\s+(?:landlord|tenant|lessor|lessee)|open\s+market\s+rent", re.I)  # rent-review lease
_LAST_MONTH_RE = re.compile(
    r"(?:expir\w*|end\w*|terminat\w*)\s+on\s+the\s+last\s+day\s+of\s+the\s+(\w+)\s*(?:\((\d{1,3})(?:st|nd|rd|th)\)\s*)?"
    r"(?:full\s+)?(?:calendar\s+)?month\s+(?:following|after)\s+the\s+(?:term\s+|rent\s+)?commencement\s+date|"
    r"last\s+day\s+of\s+the\s+(\w+)\s*(?:\((\d{1,3})(?:st|nd|rd|th)\)\s*)?(?:full\s+)?(?:calendar\s+)?month\s+"
    r"(?:following|after)\s+the\s+(?:term\s+|rent\s+)?commencement\s+date", re.I)


def _term_from_last_month(dt: DocText) -> Hit | None:
    """'ending on the last day of the sixtieth (60th) month after the Commencement Date' -> 60 months."""
    for m in _LAST_MONTH_RE.finditer(dt.text):
        word = (m.group(1) or m.group(3) or "").lower()
        digits = m.group(2) or m.group(4)
        n = int(digits) if digits else (int(word[:-2]) if re.fullmatch(r"\d+(?:st|nd|rd|th)", word) else words_to_number(word))
        if n and 0 < n <= 1500:
            return Hit(n, m.start(), m.end(), 0.65)
    return None


def term_months_between(start: str, end: str) -> int:
    """Whole months in [start, end] (used to cross-check stated terms)."""
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    nxt = date.fromordinal(b.toordinal() + 1)
    return (nxt.year - a.year) * 12 + nxt.month - a.month
