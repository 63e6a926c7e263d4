"""PDF via pypdfium2: page text exactly as pdfium gives it (as the scorer reads it), word boxes, OCR fallback.

pdfium is not thread-safe, so every pdfium call runs under one process-wide lock; OCR subprocesses run
outside it.
"""
from __future__ import annotations

import ctypes
import logging
import math
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.formats import PDF
from pipeline.parse.limits import Deadline, ParseLimits, timeout_error
from pipeline.parse.model import Box, Page, ParsedDocument
from pipeline.parse.ocr import OcrResult, ocr_pages, tesseract_path

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.RLock()


@contextmanager
def _pdfium(deadline: Deadline) -> Iterator[None]:
    """Hold the pdfium lock, but wait for it no longer than the document's deadline."""
    if not PDFIUM_LOCK.acquire(timeout=max(0.001, deadline.remaining())):
        raise timeout_error(deadline.seconds)
    try:
        yield
    finally:
        PDFIUM_LOCK.release()

_WORD = re.compile(r"\S+")
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
# A text layer with fewer letters/digits than this is "no usable text" when the page carries images.
_MIN_USABLE_CHARS = 20
# Pages with fewer letters than this and a page-sized image are treated as scans with a stamp or header.
_SCAN_WITH_STAMP_CHARS = 200
_SCAN_COVERAGE = 0.5
# A page without text or images but with at least this many drawn paths is text drawn as vector outlines.
_MIN_VECTOR_SHAPES = 60
_MAX_GARBLED_SHARE = 0.3
_MIN_OCR_DPI = 100
_MIN_SCAN_DPI = 200
# pdfium marks soft hyphens with \x02; every other control, U+FFFD/U+FFFE and private-use code points
# betray a font without a usable Unicode map.
_GARBLED = re.compile("[\x00\x01\x03-\x08\x0b\x0c\x0e-\x1f\ufffd\ufffe\ue000-\uf8ff]")
_SPACE_OR_HYPHEN_MARK = re.compile(r"[\s\x02]")

# FPDFText_GetCharBox bound with plain pointer arguments and without releasing the GIL (it never calls back):
# much cheaper per call than the typed binding, which matters at two calls per word on every page.
_GET_CHAR_BOX = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_void_p)(
    ctypes.cast(pdfium_c.FPDFText_GetCharBox, ctypes.c_void_p).value)


@dataclass
class _PageRead:
    text: str
    boxes: list[Box]
    width: float
    height: float
    needs_ocr: bool


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise InvalidDocument("The PDF is password-protected; remove the password and upload it again.",
                                  code="encrypted_pdf") from exc
        raise InvalidDocument("The PDF is damaged or incomplete and cannot be opened.",
                              code="corrupt_file") from exc


def _garbled_share(text: str) -> float:
    """Share of characters that show a broken font mapping (replacement marks, controls, private use)."""
    if _GARBLED.search(text) is None:
        return 0.0
    visible = len(text) - len(_SPACE_OR_HYPHEN_MARK.findall(text))
    return len(_GARBLED.findall(text)) / visible if visible > 0 else 0.0


def text_char_indices(textpage: pdfium.PdfTextPage, text: str) -> list[int]:
    """pdfium char index for each character of the page text (-1 where pdfium inserted text of its own).

    Only needed when the text and the char list differ in length (astral characters, excluded or inserted
    chars); the text itself is kept exactly as pdfium returns it so quotes ground against the scorer.
    """
    to_char = pdfium_c.FPDFText_GetCharIndexFromTextIndex
    indices: list[int] = []
    unit = 0
    for ch in text:
        indices.append(to_char(textpage.raw, unit))
        unit += 2 if ord(ch) > 0xFFFF else 1
    return indices


def _read_page(pdf: pdfium.PdfDocument, number: int) -> _PageRead:
    page = pdf[number - 1]
    try:
        width, height = page.get_size()
        left, bottom, right, top = page.get_bbox()
        rotation = page.get_rotation() % 360
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            count = textpage.count_chars()
            index_map: list[int] | None = None
            if len(text) != count:
                index_map = text_char_indices(textpage, text)
            boxes = _word_boxes(textpage, text, index_map, left, top)
            if rotation in (90, 180, 270):
                boxes = [Box(b.start, b.end, _turn(b.bbox, rotation, right - left, top - bottom)) for b in boxes]
        finally:
            textpage.close()
        letters = len(_ALNUM.findall(text))
        garbled = _garbled_share(text) > _MAX_GARBLED_SHARE
        # A scan carrying only a stamp or header as text still needs OCR: OCR wins when it reads more.
        needs_ocr = garbled or (letters < _SCAN_WITH_STAMP_CHARS and
                                _image_coverage(page, width * height) >= (0.0 if letters < _MIN_USABLE_CHARS
                                                                          else _SCAN_COVERAGE))
        # No text layer and no image, but drawn shapes: text converted to outlines (vector 'scans'), read by OCR.
        needs_ocr = needs_ocr or (letters < _MIN_USABLE_CHARS and _vector_shapes(page) >= _MIN_VECTOR_SHAPES)
        return _PageRead(text, boxes, width, height, needs_ocr)
    finally:
        page.close()


def _turn(bbox: tuple[float, float, float, float], rotation: int, width: float,
          height: float) -> tuple[float, float, float, float]:
    """Map a top-left-origin box on the unrotated page (width x height) onto the page as displayed (/Rotate)."""
    x0, y0, x1, y1 = bbox
    if rotation == 90:
        return height - y1, x0, height - y0, x1
    if rotation == 180:
        return width - x1, height - y1, width - x0, height - y0
    return y0, width - x1, y1, width - x0


def _word_boxes(textpage: pdfium.PdfTextPage, text: str, index_map: list[int] | None,
                left: float, top: float) -> list[Box]:
    """A box per whitespace-separated word: first and last char boxes merged (2 pdfium calls per word)."""
    get_box = _GET_CHAR_BOX
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    cl, cr, cb, ct = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    pl, pr, pb, pt = (ctypes.addressof(c) for c in (cl, cr, cb, ct))
    boxes: list[Box] = []
    append = boxes.append
    for match in _WORD.finditer(text):
        start, end = match.span()
        if index_map is None:
            first, last = start, end - 1
        else:
            mapped = [i for i in index_map[start:end] if i >= 0]
            if not mapped:
                continue
            first, last = mapped[0], mapped[-1]
        if not get_box(handle, first, pl, pr, pb, pt):
            continue
        x0, b0, t0 = cl.value, cb.value, ct.value
        if last != first:
            get_box(handle, last, pl, pr, pb, pt)
        x1, b1, t1 = cr.value, cb.value, ct.value
        append(Box(start, end, (x0 - left, top - (t0 if t0 > t1 else t1),
                                x1 - left, top - (b0 if b0 < b1 else b1))))
    return boxes


def _vector_shapes(page: pdfium.PdfPage, cap: int = _MIN_VECTOR_SHAPES) -> int:
    """Number of path objects on the page, counted up to `cap` (glyph outlines make many; a ruled blank page few)."""
    n = 0
    for _obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=4):
        n += 1
        if n >= cap:
            break
    return n


def _image_coverage(page: pdfium.PdfPage, page_area: float) -> float:
    """Largest share of the page covered by one image (0 when there is none; tiny images count a little)."""
    best = -1.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        best = max(best, 0.0, (right - left) * (top - bottom) / max(1.0, page_area))
    return best


def _check_render_budget(pdf: pdfium.PdfDocument, number: int, limits: ParseLimits) -> int:
    """The dpi to render a page for OCR at, after checking its images and render size against the pixel limit."""
    page = pdf[number - 1]
    native = 0.0
    try:
        width, height = page.get_size()
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
            px_w, px_h = obj.get_px_size()
            if px_w * px_h > limits.max_page_pixels:
                raise InvalidDocument(f"Page {number} holds an image of {px_w}x{px_h} pixels, over the "
                                      f"{limits.max_page_pixels:,}-pixel limit (a decompression bomb?).",
                                      code="decompression_bomb")
            native = max(native, px_w * 72 / max(1.0, width), px_h * 72 / max(1.0, height))
    finally:
        page.close()
    area = max(1.0, width * height)
    # Rendering a 200 dpi scan at 300 dpi adds pixels (time, memory) but no detail.
    dpi = min(limits.ocr_dpi, max(_MIN_SCAN_DPI, int(native))) if native else limits.ocr_dpi
    if area * (dpi / 72) ** 2 > limits.max_page_pixels:
        dpi = int(72 * math.sqrt(limits.max_page_pixels / area))
        if dpi < _MIN_OCR_DPI:
            raise InvalidDocument(f"Page {number} is {width / 72:.0f}x{height / 72:.0f} inches; too large to "
                                  "render for text recognition.", code="decompression_bomb")
    return dpi


def _metadata(pdf: pdfium.PdfDocument) -> dict[str, str | None]:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except (pdfium.PdfiumError, UnicodeDecodeError, TypeError) as exc:
        log.debug("unreadable PDF metadata: %s", exc)
        return {}
    return {"producer": info.get("Producer"), "creator": info.get("Creator"), "title": info.get("Title")}


def parse_pdf(data: bytes, limits: ParseLimits, deadline: Deadline,
              progress: Callable[[str, str], None]) -> ParsedDocument:
    """Parse a PDF into pages with text, word boxes and (for pages without a usable text layer) OCR."""
    with _pdfium(deadline):
        pdf = _open(data)
    try:
        return _parse_open(pdf, limits, deadline, progress)
    except pdfium.PdfiumError as exc:
        raise InvalidDocument("The PDF is damaged and part of it cannot be read.", code="corrupt_file") from exc
    finally:
        with PDFIUM_LOCK:
            pdf.close()


def _parse_open(pdf: pdfium.PdfDocument, limits: ParseLimits, deadline: Deadline,
                progress: Callable[[str, str], None]) -> ParsedDocument:
    with _pdfium(deadline):
        count = len(pdf)
        metadata = _metadata(pdf)
    if count <= 0:
        raise InvalidDocument("The PDF has no pages.", code="corrupt_file")
    if count > limits.max_pages:
        raise InvalidDocument(f"The PDF has {count:,} pages; the limit is {limits.max_pages:,}.",
                              code="too_many_pages")
    pages: list[Page] = []
    scanned: list[int] = []
    total_chars = 0
    for number in range(1, count + 1):
        deadline.check()
        with _pdfium(deadline):
            read = _read_page(pdf, number)
        total_chars += len(read.text)
        if total_chars > limits.max_text_chars:
            raise InvalidDocument(f"The document holds more than {limits.max_text_chars:,} characters of text.",
                                  code="text_too_large")
        pages.append(Page(number=number, text=read.text, boxes=read.boxes, width=read.width, height=read.height))
        if read.needs_ocr:
            scanned.append(number)
        if number % 100 == 0:
            progress("parse", f"page {number} of {count}")
    metadata.update(page_count=count, ocr_used=False, ocr_pages=[])
    if scanned and limits.ocr_enabled:
        _ocr_into(pdf, pages, scanned, limits, deadline, progress)
        metadata.update(ocr_used=any(p.ocr for p in pages), ocr_pages=[p.number for p in pages if p.ocr])
    elif scanned:
        metadata["ocr_skipped_pages"] = scanned
    return ParsedDocument(pages=pages, media_type=PDF, metadata=metadata)


def _ocr_into(pdf: pdfium.PdfDocument, pages: list[Page], scanned: list[int], limits: ParseLimits,
              deadline: Deadline, progress: Callable[[str, str], None]) -> None:
    if tesseract_path(limits.tesseract_cmd) is None:
        raise InvalidDocument("This document has scanned pages, but text recognition (Tesseract) is not "
                              "installed on this server.", code="ocr_unavailable")
    # Every pixel budget is checked before anything is rendered.
    with _pdfium(deadline):
        dpis = {number: _check_render_budget(pdf, number, limits) for number in scanned}

    def renderer(number: int):
        def render():
            with _pdfium(deadline):
                page = pdf[number - 1]
                try:
                    bitmap = page.render(scale=dpis[number] / 72, grayscale=True, may_draw_forms=False)
                    return bitmap.to_pil(), dpis[number]
                finally:
                    page.close()
        return render

    progress("ocr", f"page 0 of {len(scanned)}")
    results: dict[int, OcrResult] = ocr_pages(
        ((number, renderer(number)) for number in scanned), len(scanned), limits=limits, deadline=deadline,
        progress=progress, points_per_px_of=lambda number: 72 / dpis[number])
    for number, result in results.items():
        page = pages[number - 1]
        if len(_ALNUM.findall(result.text)) > len(_ALNUM.findall(page.text)):
            page.text, page.boxes, page.ocr = result.text, result.boxes, True
