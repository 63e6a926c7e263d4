"""Text-layer PDFs: page text as pdfium gives it, word boxes over that text, metadata, limits and bad PDFs."""
from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document


def _scorer_pages(data: bytes) -> list[str]:
    """Page text the way the evaluation scorer reads it."""
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_pages_text_matches_scorer_and_offsets_are_exact(make):
    data = make.text_pdf([make.lease_lines, ["Page two: Landlord and Tenant agree.", "Rent is due monthly."],
                          ["Signatures"]])
    doc = parse_document(data)
    assert doc.page_count == 3
    assert doc.media_type == "application/pdf"
    assert [p.text for p in doc.pages] == _scorer_pages(data)
    assert [p.number for p in doc.pages] == [1, 2, 3]
    page = doc.page(1)
    words = re.findall(r"\S+", page.text)
    assert [page.text[b.start:b.end] for b in page.boxes] == words
    assert page.text.find("Harbor") >= 0


def test_word_boxes_are_in_top_left_points(make):
    doc = parse_document(make.text_pdf([["Rent first line", "Tenant second line"]], font_size=12))
    page = doc.page(1)
    assert (page.width, page.height) == (612.0, 792.0)
    first = next(b for b in page.boxes if page.text[b.start:b.end] == "Rent")
    second = next(b for b in page.boxes if page.text[b.start:b.end] == "Tenant")
    left, top, right, bottom = first.bbox
    # drawString(72, 740): baseline 52 pt below the top edge; cap height above it.
    assert 71 <= left <= 74 and 40 <= top < bottom <= 55 and right > left
    assert second.bbox[1] > bottom - 1  # the second line is lower on the page
    start = page.text.index("first line")
    span = page.bbox_for(start, start + len("first line"))
    assert span is not None and span[0] > right


def test_metadata_and_language(make):
    doc = parse_document(make.text_pdf([make.lease_lines * 3]))
    assert doc.metadata["page_count"] == 1
    assert doc.metadata["ocr_used"] is False
    assert "ReportLab" in (doc.metadata["producer"] or "")
    assert doc.metadata["language"] == "en"
    assert doc.metadata["is_lease"] is True


def test_owner_password_only_opens_and_user_password_fails(make):
    # reportlab's userPassword="" gives a PDF that opens with an empty password.
    doc = parse_document(make.text_pdf([make.lease_lines], encrypt=""))
    assert "Harbor Point" in doc.text
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.text_pdf([make.lease_lines], encrypt="tenant-2024"))
    assert info.value.code == "encrypted_pdf"


def test_page_limit_checked_before_reading_pages(make):
    data = make.text_pdf([["page"]] * 12)
    with pytest.raises(InvalidDocument) as info:
        parse_document(data, limits=ParseLimits(max_pages=10))
    assert info.value.code == "too_many_pages"


def test_text_size_limit(make):
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.text_pdf([make.lease_lines] * 3), limits=ParseLimits(max_text_chars=300))
    assert info.value.code == "text_too_large"


def test_blank_pdf_has_no_text(make):
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.text_pdf([[], []]))
    assert info.value.code == "no_text"


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.9])
def test_truncated_pdf_fails_cleanly(cut, make):
    data = make.text_pdf([make.lease_lines] * 4)
    with pytest.raises(InvalidDocument) as info:
        parse_document(data[: int(len(data) * cut)])
    assert info.value.code in ("corrupt_file", "no_text")


def test_garbage_after_pdf_magic_fails_cleanly():
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert info.value.code == "corrupt_file"


def test_progress_is_reported(make):
    events = []
    parse_document(make.text_pdf([make.lease_lines]), progress=lambda stage, detail: events.append((stage, detail)))
    assert events and events[0][0] == "parse"


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_page_boxes_are_in_displayed_coordinates(make, rotation):
    import io

    pdf = pdfium.PdfDocument(make.text_pdf([["Rent first line"]]))
    pdf[0].set_rotation(rotation)
    buf = io.BytesIO()
    pdf.save(buf)
    page = parse_document(buf.getvalue()).page(1)
    width, height = (612.0, 792.0) if rotation == 180 else (792.0, 612.0)
    assert (page.width, page.height) == (width, height)
    box = next(b for b in page.boxes if page.text[b.start:b.end] == "Rent")
    left, top, right, bottom = box.bbox
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    # Unrotated, "Rent" sits 72 pt from the left edge and ~52 pt below the top.
    if rotation == 90:
        assert right == pytest.approx(width - 44, abs=6) and top == pytest.approx(72, abs=2)
    elif rotation == 180:
        assert right == pytest.approx(width - 72, abs=2) and bottom == pytest.approx(height - 44, abs=6)
    else:
        assert left == pytest.approx(44, abs=6) and bottom == pytest.approx(height - 72, abs=2)


def test_text_to_char_index_map_agrees_with_plain_pages(make):
    from pipeline.parse.pdf import text_char_indices

    pdf = pdfium.PdfDocument(make.text_pdf([make.lease_lines]))
    textpage = pdf[0].get_textpage()
    text = textpage.get_text_range()
    assert text_char_indices(textpage, text) == list(range(len(text)))
