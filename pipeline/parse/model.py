"""The parsed-document model every parser returns: pages of text with offsets and, where known, boxes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Box:
    """A word or line on a page: character span [start, end) in the page text and its box in page points."""

    start: int
    end: int
    bbox: tuple[float, float, float, float]  # left, top, right, bottom; origin top-left, PDF points


@dataclass
class Page:
    """One 1-based page: its text and, for PDFs and OCR, positioned boxes over that text."""

    number: int
    text: str
    boxes: list[Box] = field(default_factory=list)
    ocr: bool = False
    width: float | None = None
    height: float | None = None

    def bbox_for(self, start: int, end: int) -> tuple[float, float, float, float] | None:
        """Union of the boxes that overlap the span [start, end), or None when boxes are unknown."""
        hits = [b.bbox for b in self.boxes if b.start < end and b.end > start]
        if not hits:
            return None
        return (min(h[0] for h in hits), min(h[1] for h in hits),
                max(h[2] for h in hits), max(h[3] for h in hits))


@dataclass
class ParsedDocument:
    """A whole parsed document: pages plus metadata (format, page count, producer, OCR use, language)."""

    pages: list[Page]
    media_type: str
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        """Number of pages."""
        return len(self.pages)

    @property
    def text(self) -> str:
        """All pages joined by form feeds (page i starts after the (i-1)th form feed)."""
        return "\f".join(p.text for p in self.pages)

    def page(self, number: int) -> Page:
        """The 1-based page."""
        return self.pages[number - 1]


def parsed_to_bytes(doc: ParsedDocument) -> bytes:
    """Serialise a parsed document (gzip JSON) so later stages need not parse or OCR again."""
    import gzip
    import json

    body = {"media_type": doc.media_type, "metadata": doc.metadata, "warnings": doc.warnings,
            "pages": [{"number": p.number, "text": p.text, "ocr": p.ocr, "width": p.width, "height": p.height,
                       "boxes": [[b.start, b.end, *b.bbox] for b in p.boxes]} for p in doc.pages]}
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode("utf-8"), mtime=0)


def parsed_from_bytes(data: bytes) -> ParsedDocument:
    """Inverse of parsed_to_bytes."""
    import gzip
    import json

    body = json.loads(gzip.decompress(data))
    pages = [Page(number=p["number"], text=p["text"], ocr=p["ocr"], width=p["width"], height=p["height"],
                  boxes=[Box(int(b[0]), int(b[1]), (b[2], b[3], b[4], b[5])) for b in p["boxes"]])
             for p in body["pages"]]
    return ParsedDocument(pages=pages, media_type=body["media_type"], metadata=body["metadata"],
                          warnings=body["warnings"])
