"""The synthetic devset as ParsedDocuments for search tests and the search bench (text layers only, no OCR)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pipeline.parse.model import Page, ParsedDocument

DEVSET = Path(__file__).resolve().parents[1].parent / "shared" / "devset"


def _pages(path: Path) -> list[str]:
    """Page texts of one devset file; DOCX, HTML and TXT are one page."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(str(path))
        try:
            return [pdf[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(pdf))]
        finally:
            pdf.close()
    if suffix == ".docx":
        import docx
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        for table in d.tables:
            for row in table.rows:
                parts.append(" | ".join(c.text for c in row.cells))
        return ["\n".join(parts)]
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup
        return [BeautifulSoup(path.read_bytes(), "lxml").get_text("\n")]
    return [path.read_text(encoding="utf-8")]


@lru_cache(maxsize=1)
def truth() -> dict[str, dict]:
    """devset truth rows by document stem (e.g. 'D001')."""
    rows = {}
    for line in (DEVSET / "truth.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[Path(row["file"]).stem] = row
    return rows


@lru_cache(maxsize=64)
def load(stem: str) -> ParsedDocument:
    """One devset document parsed to pages (image-only PDFs come back with empty pages)."""
    path = DEVSET / truth()[stem]["file"]
    texts = _pages(path)
    return ParsedDocument(pages=[Page(number=i + 1, text=t) for i, t in enumerate(texts)],
                          media_type=path.suffix.lstrip("."))


def text_documents() -> list[str]:
    """Stems of devset documents that have a text layer."""
    return [stem for stem, row in sorted(truth().items()) if row.get("format") != "pdf_image"]
