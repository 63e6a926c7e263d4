"""The clause finder: where each topic of a lease sits, found by document structure rather than by phrases.

Structure read here: section headings (numbered or not: 'SECTION THREE / RENT', '4. Base Rent.', 'ARTICLE 5
SECURITY DEPOSIT', an upper-case line), and label/value lines of summary blocks ('Basic Lease Information',
'Reference Data', 'Summary of Terms', 'Particulars': 'Security Deposit: $12,000'). A topic's clauses are the
sections whose heading, or the labels whose name, speaks of it. The LLM path asks the same finder for passages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.extract.doctext import DocText

# Heading vocabulary per topic; `not` words keep a neighbouring topic out ('Additional Rent' is not base rent).
TOPICS: dict[str, tuple[str, str | None]] = {
    "parties": (r"\bparties\b|\blandlord\b|\btenant\b|\blessor\b|\blessee\b", r"obligation|default|covenant|repair"),
    "premises": (r"premises|demise|leased\s+(?:property|space)|description\s+of|^\W*(?:the\s+)?property\W*$|\blocation\b|"
                 r"\baddress\b",
                 r"of\s+(?:sub)?(?:lessor|lessee|landlord|tenant)|notice|\buse|access|condition|alteration|surrender|repair|insurance|entry|common|parking|expense|tax"),
    "term": (r"\bterm\b|commencement|duration|expiration", r"terminat|renew|extension|option|holding"),
    "rent": (r"\brent(?:al)?\b", r"additional|escalat|abate|holding|tax|adjust|late|deposit|expense|"
             r"operating|commencement\s+date"),
    "deposit": (r"deposit|security|letter\s+of\s+credit", r"insurance|interest\s+rate"),
    "expenses": (r"operating|expense|additional\s+rent|\btaxes\b|common\s+area|\bcam\b|service\s+charge|utilit|"
                 r"outgoings", None),
    "use": (r"\buse\b|purpose", r"common|parking|hazard"),
    "renewal": (r"renew|extension|extend|option", r"purchase|first\s+refusal|expansion|terminat"),
    "law": (r"governing|applicable\s+law|choice\s+of\s+law|jurisdiction", None),
}

_NUMBER = r"(?:(?:section|article|clause|paragraph|part)\s+)?(?:\d{1,3}(?:\.\d{1,3})*\.?|[IVXL]{1,6}\.|[A-Z]\.|\(\w{1,4}\))"
_WORD_NUMBER = r"(?:section|article|clause|paragraph|part)\s+(?:one|two|three|four|five|six|seven|eight|nine|ten|" \
               r"eleven|twelve|[a-z]+teen|twenty[\w-]*|thirty[\w-]*|forty[\w-]*|fifty[\w-]*)"
# '4. Base Rent. Tenant shall pay ...': a numbered run-in heading ending in a period or colon
_RUN_IN = re.compile(rf"(?m)^[ \t]*(?:{_NUMBER})[ \t]+((?:[A-Z][\w'&/-]*[ \t,]+){{0,5}}[A-Z][\w'&/-]*)[ \t]*[.:][ \t]+(?=\S)")
_LABEL = re.compile(r"(?m)^[ \t]*(?:\(?[\w.]{1,5}\)?[ \t]+)?([A-Z][A-Za-z'’/&() -]{2,48}?)[ \t]*:[ \t]*(\S[^\n]{0,300})?$")
_LABEL_NEXT = re.compile(r"\n[ \t]*\n?[ \t]*(\S[^\n]{0,300})")


@dataclass(frozen=True)
class Clause:
    """A located clause: heading or label text and the global span of its body."""

    title: str
    start: int
    end: int
    kind: str  # section | label


def _heading_lines(dt: DocText) -> list[tuple[int, str]]:
    """(offset, title) of every heading line, consecutive heading lines merged ('SECTION THREE' + 'RENT')."""
    out: list[tuple[int, str]] = []
    pos = 0
    for line in dt.raw.split("\n"):
        stripped = line.strip(" \t\f\u00a0")
        start = pos + (len(line) - len(line.lstrip(" \t\f\u00a0")))
        pos += len(line) + 1
        if not stripped or len(stripped) > 70:
            continue
        words = stripped.split()
        if len(words) > 9 or stripped.endswith((",", ";")):
            continue
        letters = [c for c in stripped if c.isalpha()]
        numbered = re.match(rf"{_NUMBER}\s+\S|{_WORD_NUMBER}\b", stripped, re.I)
        upper = len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) > 0.85
        titled = numbered and all(w[0].isupper() or not w[0].isalpha() or w.lower() in ("of", "and", "or", "the", "to", "for")
                                  for w in words[1:])
        if not (upper or titled) or stripped.endswith(".") and not numbered and not upper:
            continue
        if out and start - (out[-1][0] + len(out[-1][1])) < 40 and re.fullmatch(rf"{_WORD_NUMBER}|{_NUMBER}", out[-1][1], re.I):
            out[-1] = (out[-1][0], out[-1][1] + " " + stripped)
        else:
            out.append((start, stripped))
    for m in _RUN_IN.finditer(dt.raw):
        out.append((m.start(), m.group(0).strip()))
    out.sort()
    return out


def _level(title: str) -> int:
    """Depth of a heading: 0 for articles, sections and unnumbered headings; 1 for '3.', 2 for '3.1', ..."""
    if re.match(r"\([a-z]{1,4}\)|[a-z]\.", title):
        return 4  # '(a)', '(iv)', 'b.': a lettered subdivision
    m = re.match(r"\(?(\d{1,3}(?:\.\d{1,3})*)", title)
    if m is None or re.match(r"(?:section|article|clause|part)\b", title, re.I):
        return 0
    return 1 + m.group(1).count(".")


@lru_cache(maxsize=8)
def _sections(dt: DocText) -> tuple[Clause, ...]:
    heads = _heading_lines(dt)
    out = []
    for i, (start, title) in enumerate(heads):
        level = _level(title)
        # a section runs over its deeper sub-headings ('ARTICLE 4' holds '4.1', '4.2') up to the next peer
        nxt = next((h for h in heads[i + 1:] if _level(h[1]) <= level), None)
        end = nxt[0] if nxt is not None else len(dt.text)
        out.append(Clause(title, start, min(end, start + 6000), "section"))
    return tuple(out)


@lru_cache(maxsize=8)
def _labels(dt: DocText) -> tuple[Clause, ...]:
    out = []
    for m in _LABEL.finditer(dt.raw):
        label = m.group(1).strip()
        if len(label.split()) > 6:
            continue
        if m.group(2):
            s = m.start(2)
            e = m.end(2)
        else:  # the value on the next non-blank line (form layouts, tables flattened to text)
            nxt = _LABEL_NEXT.match(dt.raw, m.end())
            if nxt is None:
                continue
            s, e = nxt.start(1), nxt.end(1)
        out.append(Clause(label, s, e, "label"))
    return tuple(out)


def _matches(topic: str, title: str) -> bool:
    want, avoid = TOPICS[topic]
    return bool(re.search(want, title, re.I)) and not (avoid and re.search(avoid, title, re.I))


def sections(dt: DocText, topic: str) -> list[Clause]:
    """Sections whose heading speaks of the topic, in document order."""
    return [c for c in _sections(dt) if _matches(topic, c.title)]


def labels(dt: DocText, topic: str) -> list[Clause]:
    """Label/value lines whose label speaks of the topic ('Security Deposit: $5,000'), in document order."""
    return [c for c in _labels(dt) if _matches(topic, c.title)]


def clauses(dt: DocText, topic: str) -> list[Clause]:
    """Every located clause of a topic: labelled values first (summary blocks are the most direct), then sections."""
    return labels(dt, topic) + sections(dt, topic)


def within(pos: int, found: list[Clause]) -> Clause | None:
    """The clause holding global offset pos, if any."""
    return next((c for c in found if c.start <= pos < c.end), None)
