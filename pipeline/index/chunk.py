"""Structure-aware chunking: passages that keep their page, character offsets and section heading."""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.parse.model import Page, ParsedDocument
from pipeline.ports import Chunk

# A heading is a short line that opens an article/section ("ARTICLE 9 - ASSIGNMENT", "Section 4.2 Rent",
# "12. Holdover.") or is written in capitals ("BASIC LEASE INFORMATION").
_HEADING = re.compile(
    r"^[ \t]*(?:"
    r"(?:ARTICLE|Article|SECTION|Section|§)\s+[0-9IVXLC]+(?:\.[0-9]+)*\b[^\n]{0,90}"
    r"|[0-9]{1,2}(?:\.[0-9]{1,2})*\.?[ \t]+[A-Z][A-Za-z0-9,;&'’/\- ]{1,70}\.?"
    r"|[A-Z][A-Z0-9,;&'’/\- ]{3,70}"
    r")[ \t]*\r?$",
    re.MULTILINE,
)
# Where a long section may be cut, best first: before a numbered clause or after a blank line; after a
# sentence; at a line end (hard-wrapped filings end lines mid-sentence, so only as a last resort).
_CUTS = (
    re.compile(r"\n[ \t]*(?=\(?[0-9]{1,3}(?:\.[0-9]{1,3})*[.)]?[ \t]|\([a-zA-Z]{1,4}\)[ \t]|"
               r"(?:ARTICLE|Article|SECTION|Section)[ \t])|\n[ \t]*\n"),
    re.compile(r"[.!?][\"”')\]]?\s+(?=[\"“(]?[A-Z0-9])|[;:]\s*\n"),
    re.compile(r"\r?\n"),
)
# “Term” means …  /  … (the “Term”): definitions a chunk may use without containing them.
_DEFINES = re.compile(r"[\"“]([A-Z][^\"”\n]{1,48})[\"”]\s*(?:\)\s*)?(?:shall\s+)?(?:means?|has\s+the\s+meaning|"
                      r"is\s+defined\s+as)\s+([^.;]{3,200})")
_DEFINED_BY = re.compile(r"([^.;()]{8,160})\((?:the\s+|each\s+a\s+|a\s+)?[\"“]([A-Z][^\"”\n]{1,48})[\"”]\)")
_MAX_DEFINITIONS_CHARS = 300
_MAX_TERM_USES = 12
_MAX_DEFINITION_CHARS = 120
_MAX_SECTION_CHARS = 120
_RUNNING_HEADER_CHARS = 80


@dataclass(frozen=True)
class _Segment:
    start: int
    end: int
    section: str


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _segments(page: Page, carry: str = "") -> list[_Segment]:
    """Split a page at its headings; text before the first heading continues the previous page's section."""
    text = page.text
    cuts = [m for m in _HEADING.finditer(text) if m.group(0).strip()]
    segs: list[_Segment] = []
    bounds = [0] + [m.start() for m in cuts] + [len(text)]
    titles = [carry] + [" ".join(m.group(0).split())[:_MAX_SECTION_CHARS] for m in cuts]
    for i, title in enumerate(titles):
        s, e = _trim(text, bounds[i], bounds[i + 1])
        if i == 0 and cuts and e - s < _RUNNING_HEADER_CHARS:
            # A running title above the first heading is not a continuation of the previous section.
            title = titles[1]
        if s < e:
            segs.append(_Segment(s, e, title))
    return segs


def _split_long(text: str, start: int, end: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Windows of at most max_chars over [start, end), cut at sentence ends when possible, overlapping."""
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        limit = min(end, pos + max_chars)
        cut = limit
        if limit < end:
            best = -1
            for pattern in _CUTS:
                for m in pattern.finditer(text, pos + max_chars // 2, limit):
                    best = m.end()
                if best > pos:
                    break
            if best > pos:
                cut = best
            else:
                space = text.rfind(" ", pos + max_chars // 2, limit)
                cut = space + 1 if space > pos else limit
        s, e = _trim(text, pos, cut)
        if s < e:
            spans.append((s, e))
        if cut >= end:
            break
        nxt = max(cut - overlap, pos + 1)
        # Start the overlap at a word boundary so no chunk opens mid-word.
        if nxt < cut:
            space = text.find(" ", nxt, cut)
            nxt = space + 1 if space != -1 else cut
        pos = nxt
    return spans


def chunk_page(page: Page, *, max_chars: int = 1000, overlap: int = 150,
               carry: str = "") -> list[tuple[int, int, str]]:
    """(start, end, section) spans of one page: headings kept with their text, small sections packed."""
    text = page.text
    packed: list[tuple[int, int, str]] = []
    for seg in _segments(page, carry):
        if packed:
            ps, pe, psec = packed[-1]
            if seg.end - ps <= max_chars:
                packed[-1] = (ps, seg.end, psec)
                continue
        if seg.end - seg.start <= max_chars:
            packed.append((seg.start, seg.end, seg.section))
        else:
            packed.extend((s, e, seg.section) for s, e in _split_long(text, seg.start, seg.end, max_chars, overlap))
    return packed


def definitions(parsed: ParsedDocument) -> dict[str, str]:
    """Defined terms of a document that carry a value (“Review Date” means 14 November 2017). Terms used all
    through the document (the parties, “Premises”) are left out: they would add the same words to every chunk."""
    found: dict[str, str] = {}
    for page in parsed.pages:
        for m in _DEFINES.finditer(page.text):
            found.setdefault(" ".join(m.group(1).split()), " ".join(m.group(2).split()))
        for m in _DEFINED_BY.finditer(page.text):
            found.setdefault(" ".join(m.group(2).split()), " ".join(m.group(1).split()))
    full = "\n".join(p.text for p in parsed.pages)
    # Only short definitions that carry a value (a date, an amount, a period) are worth repeating in a chunk.
    return {t: d for t, d in found.items()
            if full.count(t) <= _MAX_TERM_USES and len(d) <= _MAX_DEFINITION_CHARS and any(c.isdigit() for c in d)}


def definition_context(text: str, defined: dict[str, str]) -> str:
    """The definitions of terms a chunk uses but does not define itself (bounded in size)."""
    parts, size = [], 0
    for term, meaning in defined.items():
        if term in text and meaning not in text:
            part = f"{term}: {meaning}"
            if size + len(part) > _MAX_DEFINITIONS_CHARS:
                break
            parts.append(part)
            size += len(part) + 3
    return " | ".join(parts)


def chunk_document(parsed: ParsedDocument, *, org_id: str, document_id: str, max_chars: int = 1000,
                   overlap: int = 150, metadata: dict | None = None) -> list[Chunk]:
    """Chunks of a parsed document; never cross pages, text == page.text[start:end], ids deterministic.
    Each carries its section heading and the definitions of the defined terms it uses."""
    defined = definitions(parsed)
    chunks: list[Chunk] = []
    carry = ""
    for page in parsed.pages:
        spans = chunk_page(page, max_chars=max_chars, overlap=overlap, carry=carry)
        segs = _segments(page, carry)
        if segs:
            carry = segs[-1].section
        for start, end, section in spans:
            meta = dict(metadata or {})
            terms = definition_context(page.text[start:end], defined)
            if terms:
                meta["definitions"] = terms
            chunks.append(Chunk(
                id=f"{document_id}:{page.number}:{start}", org_id=org_id, document_id=document_id,
                page=page.number, start=start, end=end, text=page.text[start:end], section=section,
                metadata=meta,
            ))
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded and lexically indexed: document context, the section heading, the text, then the
    definitions of the terms it uses (last, so a long chunk loses those first to the model's input limit)."""
    parts = []
    context = chunk.metadata.get("context")
    if context:
        parts.append(str(context))
    if chunk.section and not chunk.text.startswith(chunk.section[:40]):
        parts.append(chunk.section)
    parts.append(chunk.text)
    if chunk.metadata.get("definitions"):
        parts.append(str(chunk.metadata["definitions"]))
    return "\n".join(parts)
