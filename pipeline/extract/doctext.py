"""A searchable view over a parsed document: one string for all pages, mapped back to page citations."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.domain.model import Citation
from pipeline.parse.model import ParsedDocument

# One-to-one character substitutions so regexes see plain ASCII punctuation and single-space
# whitespace while every offset stays identical to the page text.
_SEARCH_MAP = str.maketrans({
    "\r": " ", "\n": " ", "\t": " ", "\xa0": " ", "\u2028": " ", "\u2029": " ", "\x0b": " ",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2011": "-", "\u2010": "-", "\u00ad": " ",
})

MAX_QUOTE = 200


@dataclass
class Hit:
    """A candidate value read from the document: global span in DocText.text plus a method-based score."""

    value: Any
    start: int
    end: int
    score: float = 0.7
    raw: str | None = None
    extra: list[tuple[int, int]] = field(default_factory=list)  # further supporting spans


class DocText:
    """All page texts joined by form feeds; offsets map back to (page, local offset)."""

    def __init__(self, doc: ParsedDocument):
        self.doc = doc
        self.starts: list[int] = []
        pos = 0
        for page in doc.pages:
            self.starts.append(pos)
            pos += len(page.text) + 1
        self.raw = "\f".join(p.text for p in doc.pages)
        self.text = self.raw.translate(_SEARCH_MAP)
        self.lower = self.text.lower()

    def __len__(self) -> int:
        return len(self.text)

    def page_of(self, pos: int) -> int:
        """0-based page index holding global offset pos."""
        return max(0, bisect.bisect_right(self.starts, pos) - 1)

    def cite(self, start: int, end: int, max_len: int = MAX_QUOTE) -> Citation | None:
        """A citation for the global span, clipped to one page, trimmed of whitespace and to max_len."""
        if not self.doc.pages or start >= end:
            return None
        idx = self.page_of(start)
        page = self.doc.pages[idx]
        base = self.starts[idx]
        s = max(0, start - base)
        e = min(len(page.text), end - base)
        text = page.text
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > max_len:
            e = s + max_len
            cut = text.rfind(" ", s, e)
            if cut > s + max_len // 2:
                e = cut
            while e > s and text[e - 1].isspace():
                e -= 1
        if e <= s:
            return None
        quote = text[s:e]
        return Citation(page=idx + 1, start=s, end=e, quote=quote, bbox=page.bbox_for(s, e) if page.boxes else None)

    def sentence_bounds(self, pos: int, limit: int = 600) -> tuple[int, int]:
        """Approximate sentence around pos (split at '. ', ';', blank lines and form feeds)."""
        t = self.text
        lo = max(0, pos - limit)
        start = lo
        for m in re.finditer(r"(?:[.;:]\s+(?=[A-Z(\"0-9])|\f|\s{3,})", t[lo:pos]):
            start = lo + m.end()
        hi = min(len(t), pos + limit)
        m = re.search(r"(?:\.\s+(?=[A-Z(\"0-9])|\.\s*$|;|\f|\s{3,})", t[pos:hi])
        end = pos + m.start() + (1 if m and t[pos + m.start()] == "." else 0) if m else hi
        return start, end

    def window(self, start: int, end: int, before: int = 150, after: int = 150) -> tuple[str, str]:
        """Lower-cased text just before and just after a span."""
        return self.lower[max(0, start - before):start], self.lower[end:end + after]
