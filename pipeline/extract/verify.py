"""Grounding: every citation must be the exact text of its page, or the value is not returned as found."""
from __future__ import annotations

from pipeline.domain.model import Citation
from pipeline.extract.doctext import DocText
from pipeline.parse.model import ParsedDocument


def citation_ok(doc: ParsedDocument, c: Citation) -> bool:
    """True when the citation's quote is exactly page.text[start:end] on an existing page."""
    if not 1 <= c.page <= len(doc.pages) or not c.quote:
        return False
    return doc.pages[c.page - 1].text[c.start:c.end] == c.quote


def grounded_citations(dt: DocText, spans: list[tuple[int, int]]) -> list[Citation]:
    """Citations for global spans, keeping only those that verify on their page."""
    out = []
    for s, e in spans:
        c = dt.cite(s, e)
        if c is not None and citation_ok(dt.doc, c) and c not in out:
            out.append(c)
    return out
