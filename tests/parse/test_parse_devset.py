"""The synthetic devset: page counts from truth.jsonl and every evidence quote on its stated page."""
from __future__ import annotations

import json
import sys

import pytest
from rapidfuzz import fuzz

from pipeline.parse import parse_document


def _truth(shared_dir):
    path = shared_dir / "devset" / "truth.jsonl"
    if not path.is_file():
        pytest.skip("devset truth.jsonl not found")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _canonical(shared_dir):
    sys.path.insert(0, str(shared_dir / "eval"))
    try:
        from score import canonical_text, quote_on_page
    finally:
        sys.path.pop(0)
    return canonical_text, quote_on_page


def _quotes(entry):
    for field, ev in (entry.get("evidence") or {}).items():
        yield field, ev["page"], ev["quote"]
    for flag in entry.get("risk_flags") or []:
        yield flag["type"], flag["page"], flag["quote"]


def test_text_documents_page_counts_and_quotes_ground(shared_dir):
    canonical_text, quote_on_page = _canonical(shared_dir)
    checked = 0
    for entry in _truth(shared_dir):
        if entry.get("format") == "pdf_image":
            continue
        doc = parse_document((shared_dir / "devset" / entry["file"]).read_bytes())
        assert doc.page_count == entry["pages"], entry["file"]
        assert doc.metadata["ocr_used"] is False, entry["file"]
        assert doc.metadata["is_lease"] is (entry["kind"] != "not_a_lease"), (entry["file"], doc.metadata)
        for field, page, quote in _quotes(entry):
            assert quote_on_page(quote, doc.page(page).text), (entry["file"], field, page, quote)
            # Stricter than the scorer: contiguous up to whitespace, no "spaces removed" fallback needed.
            assert canonical_text(quote) in canonical_text(doc.page(page).text), (entry["file"], field, quote)
            checked += 1
    assert checked > 300


@pytest.mark.slow
@pytest.mark.usefixtures("needs_tesseract")
def test_image_pdfs_are_ocred_page_faithfully(shared_dir):
    canonical_text, _quote_on_page = _canonical(shared_dir)
    images = [e for e in _truth(shared_dir) if e.get("format") == "pdf_image"]
    if not images:
        pytest.skip("no image-only devset PDFs")
    scores = []
    for entry in images[:1]:
        doc = parse_document((shared_dir / "devset" / entry["file"]).read_bytes())
        assert doc.page_count == entry["pages"], entry["file"]
        assert doc.metadata["ocr_used"] is True
        for _field, page, quote in _quotes(entry):
            scores.append(fuzz.partial_ratio(canonical_text(quote), canonical_text(doc.page(page).text)))
    # OCR is not letter-perfect, but quotes must be recognisably on their own page.
    assert sum(s >= 90 for s in scores) / len(scores) >= 0.85, sorted(scores)[:10]


def test_pdf_quotes_have_offsets_and_highlight_boxes(shared_dir):
    located = 0
    for entry in _truth(shared_dir):
        if entry.get("format") != "pdf_text":
            continue
        doc = parse_document((shared_dir / "devset" / entry["file"]).read_bytes())
        for _field, number, quote in _quotes(entry):
            page = doc.page(number)
            start = page.text.find(quote)
            if start < 0:
                continue  # wrapped over a line break; grounding still holds (checked above)
            assert page.text[start:start + len(quote)] == quote
            box = page.bbox_for(start, start + len(quote))
            assert box is not None, (entry["file"], quote)
            left, top, right, bottom = box
            assert 0 <= left < right <= page.width and 0 <= top < bottom <= page.height
            located += 1
    assert located > 150
