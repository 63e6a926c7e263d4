"""Sentence segmentation that survives hard-wrapped filings, page headers/footers and numbered clauses.

Spans are (start, end) offsets into the text given, so a sentence can be cited as exact page text; `clean`
gives the words a reader sees (page furniture removed, line breaks joined).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A line that is page furniture: "Page 3 of 7", "- 12 -", a lone page number, "Source: https://...".
_FURNITURE = re.compile(
    r"^[ \t]*(?:page[ \t]+\d+(?:[ \t]+of[ \t]+\d+)?|[-–—]?[ \t]*\d{1,3}[ \t]*[-–—]?|[ivxlc]{1,5}|"
    r"source:[ \t]*\S+|<page>|\f)[ \t]*$", re.IGNORECASE | re.MULTILINE)
# A line opening a numbered clause or heading: "12.", "4.1", "(a)", "(iv)", "A.", "ARTICLE 9", "Section 4.2".
_CLAUSE_START = re.compile(
    r"[ \t]*(?:\(?\d{1,3}(?:\.\d{1,3})*[.)]?[ \t]|\([a-zA-Z]{1,4}\)[ \t]|[A-Z]\.[ \t]|"
    r"(?:ARTICLE|Article|SECTION|Section)[ \t]+\w)")
_END = re.compile(r"[.!?][\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9(])")
_ABBREV = re.compile(
    r"(?:\b(?:inc|co|corp|ltd|llc|l\.p|n\.a|no|nos|sec|secs|st|ave|blvd|rd|dr|mr|mrs|ms|jr|sr|u\.s|e\.g|i\.e|"
    r"etc|vs|approx|ste|fl|pp|ex|art|para|cl|sq|ft|min|max|dept|univ|mt|ft|s\.a|p\.c|p\.a|v)|\b[A-Z]|\d)$",
    re.IGNORECASE)
_HEADING_LINE = re.compile(r"[^a-z]{3,90}$")  # no lower-case letter: "ARTICLE 14 - HOLDOVER"
_TERMINAL = re.compile(r"[.!?:;][\"”’')\]]*\s*$")
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True)
class Sentence:
    """A sentence as offsets into its text."""

    start: int
    end: int


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, pos + len(line)))
        pos += len(line)
    return out


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Runs of text that belong together: blank lines and furniture break them only where a sentence or
    clause ends, and a numbered clause or heading always starts a new one."""
    paras: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    gap = False
    for s, e in _lines(text):
        line = text[s:e]
        if not line.strip() or _FURNITURE.match(line.rstrip("\r\n")):
            gap = gap or bool(cur)
            continue
        starts_clause = bool(_CLAUSE_START.match(line))
        if cur is not None and (starts_clause or (gap and _TERMINAL.search(text[cur[0]:cur[1]]))):
            paras.append(cur)
            cur = None
        cur = (s, e) if cur is None else (cur[0], e)
        gap = False
        if _HEADING_LINE.match(line.strip()) and is_heading(line.strip()):
            paras.append(cur)  # a heading line stands alone
            cur = None
    if cur is not None:
        paras.append(cur)
    return paras


def _split_long(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at '; ' boundaries (legal enumerations) into pieces of bounded size."""
    if e - s <= MAX_SENTENCE_CHARS:
        return [(s, e)]
    out, start = [], s
    for m in re.finditer(r";\s+", text[s:e]):
        cut = s + m.end()
        if cut - start >= MAX_SENTENCE_CHARS // 3:
            out.append((start, cut))
            start = cut
    out.append((start, e))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of a passage as offsets (trimmed, furniture-only lines excluded)."""
    out: list[Sentence] = []
    for ps, pe in _paragraphs(text):
        start = ps
        for m in _END.finditer(text, ps, pe):
            before = text[start:m.start()]
            if _ABBREV.search(before):
                continue
            out += [Sentence(a, b) for a, b in _split_long(text, *_trim(text, start, m.end()))]
            start = m.end()
        s, e = _trim(text, start, pe)
        if s < e:
            out += [Sentence(a, b) for a, b in _split_long(text, s, e)]
    return [s for s in out if s.end - s.start >= 3]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def is_heading(text: str) -> bool:
    """A heading rather than a sentence: mostly capitals, or a short numbered title without a verb-like end."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return True
    numbered_title = re.fullmatch(r"[\s\d.()A-Za-z]{0,6}[\d.)]+\s*[A-Z][\w\s,;&'’/-]{0,60}\.?", text)
    return bool(numbered_title) and len(text.split()) <= 8


def clean(text: str) -> str:
    """What a reader sees of a span: page furniture lines dropped, whitespace collapsed."""
    return " ".join(_FURNITURE.sub(" ", text).split())
