"""Scanned pages: OCR with Tesseract, rotation fixed, boxes in points, mixed documents, limits."""
from __future__ import annotations

import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document
from pipeline.parse.ocr import _rotated, _unrotate

pytestmark = pytest.mark.usefixtures("needs_tesseract")


def _assert_reads_lease(text: str) -> None:
    lowered = text.lower()
    for needle in ("harbor point properties", "whitfield", "2,850.00", "security deposit"):
        assert needle in lowered, (needle, text[:400])


def test_scanned_page_is_ocred_with_boxes_in_points(make):
    events = []
    doc = parse_document(make.scanned_pdf([make.image(make.lease_lines)]),
                         progress=lambda stage, detail: events.append((stage, detail)))
    page = doc.page(1)
    assert page.ocr is True and doc.metadata["ocr_used"] is True and doc.metadata["ocr_pages"] == [1]
    _assert_reads_lease(page.text)
    assert ("ocr", "page 1 of 1") in events
    for box in page.boxes:
        assert page.text[box.start:box.end].strip() == page.text[box.start:box.end] != ""
        left, top, right, bottom = box.bbox
        assert 0 <= left < right <= 612 and 0 <= top < bottom <= 792
    # The first line was drawn one inch (72 pt) from the left and top edges.
    first = page.boxes[0]
    assert page.text[first.start:first.end] == "COMMERCIAL"
    assert 60 <= first.bbox[0] <= 85 and 60 <= first.bbox[1] <= 90


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_scan_is_fixed(rotate, make):
    doc = parse_document(make.scanned_pdf([make.image(make.lease_lines, rotate=rotate)]))
    page = doc.page(1)
    _assert_reads_lease(page.text)
    width, height = (612.0, 792.0) if rotate == 180 else (792.0, 612.0)
    assert (page.width, page.height) == (width, height)
    first = page.boxes[0]
    left, top, right, bottom = first.bbox
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    if rotate != 180:
        assert bottom - top > right - left  # a sideways word is taller than wide
    else:
        assert top > height / 2  # the first line of an upside-down page sits near the bottom


def test_mixed_document_page_by_page(make):
    data = make.scanned_pdf([make.image(make.lease_lines)],
                            text_pages={0: ["Cover page: Landlord and Tenant agree to this Lease."] * 3})
    doc = parse_document(data)
    assert doc.page_count == 2
    assert doc.page(1).ocr is False and "Cover page" in doc.page(1).text
    assert doc.page(2).ocr is True
    _assert_reads_lease(doc.page(2).text)
    assert doc.metadata["ocr_pages"] == [2]


def test_missing_tesseract_gives_ocr_unavailable(make):
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.scanned_pdf([make.image(make.lease_lines)]),
                       limits=ParseLimits(tesseract_cmd="/nonexistent/tesseract"))
    assert info.value.code == "ocr_unavailable"


def test_ocr_disabled_scan_has_no_text(make):
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.scanned_pdf([make.image(make.lease_lines)]), limits=ParseLimits(ocr_enabled=False))
    assert info.value.code == "no_text"


def test_pixel_limit_checked_before_rendering(make):
    with pytest.raises(InvalidDocument) as info:
        parse_document(make.scanned_pdf([make.image(make.lease_lines, dpi=100)]),
                       limits=ParseLimits(max_page_pixels=200_000))
    assert info.value.code == "decompression_bomb"


def test_timeout_during_ocr(make):
    data = make.scanned_pdf([make.image(make.lease_lines)] * 3)
    with pytest.raises(InvalidDocument) as info:
        parse_document(data, limits=ParseLimits(timeout_s=0.3))
    assert info.value.code == "parse_timeout"


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_unrotate_maps_boxes_back(rotation):
    from PIL import Image

    image = Image.new("L", (40, 20), 255)
    image.putpixel((5, 3), 0)
    turned = _rotated(image, rotation)
    xs = [(x, y) for x in range(turned.width) for y in range(turned.height) if turned.getpixel((x, y)) == 0]
    (x, y), = xs
    assert _unrotate((x, y, x + 1, y + 1), rotation, 40, 20) == (5, 3, 6, 4)


def test_scan_with_a_text_stamp_is_still_ocred(make):
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792), invariant=1)
    c.drawImage(ImageReader(make.image(make.lease_lines)), 0, 0, width=612, height=792)
    c.setFont("Helvetica", 8)
    c.drawString(400, 20, "CONFIDENTIAL - Produced under protective order ABC000123")
    c.showPage()
    c.save()
    page = parse_document(buf.getvalue()).page(1)
    assert page.ocr is True
    _assert_reads_lease(page.text)


def _outlined_pdf(image) -> bytes:
    """A PDF page whose text is drawn as vector shapes (no text layer, no image): one filled rectangle per run of
    dark pixels of the rendered lines, the way 'convert text to outlines' exports look to a PDF reader."""
    import io

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    grey = image.convert("L")
    w, h = grey.size
    scale = 612 / w
    px = grey.load()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setFillGray(0)
    for y in range(h):
        x = 0
        while x < w:
            if px[x, y] < 128:
                start = x
                while x < w and px[x, y] < 128:
                    x += 1
                c.rect(start * scale, 792 - (y + 1) * scale, (x - start) * scale, scale, stroke=0, fill=1)
            x += 1
    c.showPage()
    c.save()
    return buf.getvalue()


def test_page_drawn_as_vector_shapes_is_ocred(make):
    data = _outlined_pdf(make.image(make.lease_lines, dpi=150))
    doc = parse_document(data)
    page = doc.page(1)
    assert page.ocr is True and doc.metadata["ocr_pages"] == [1]
    _assert_reads_lease(page.text)


def test_blank_ruled_page_is_not_sent_to_ocr(make):
    import io

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for i in range(10):
        c.line(72, 700 - 20 * i, 540, 700 - 20 * i)
    c.setFont("Helvetica", 11)
    c.drawString(72, 740, "Signature page: Landlord and Tenant sign this Lease below.")
    c.showPage()
    c.save()
    doc = parse_document(buf.getvalue())
    assert doc.page(1).ocr is False
