"""Page images of an uploaded PDF, rendered on demand with pypdfium2 (the review workspace draws citations on them)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable

import pypdfium2 as pdfium

from pipeline.domain.errors import InvalidDocument, NotFound, TransientError, ValidationFailed
from pipeline.parse.formats import PDF
from pipeline.parse.pdf import PDFIUM_LOCK

MIN_SCALE = 0.25
MAX_SCALE = 3.0
DEFAULT_SCALE = 1.5
MAX_SIDE_PX = 2400  # a poster-sized page is scaled down to this, whatever the scale asked for
LOCK_WAIT_S = 30.0  # parsing holds the pdfium lock page by page; a render never waits longer than this


@dataclass(frozen=True)
class PageImage:
    """A rendered page: PNG bytes, the page size in PDF points (the unit of citation boxes) and the scale used."""

    png: bytes
    width_pt: float
    height_pt: float
    scale: float


def parse_scale(raw: str | None) -> float:
    """The requested scale (pixels per PDF point), checked against [MIN_SCALE, MAX_SCALE]."""
    if raw is None or raw == "":
        return DEFAULT_SCALE
    try:
        scale = float(raw)
    except ValueError as exc:
        raise ValidationFailed("scale must be a number") from exc
    if not MIN_SCALE <= scale <= MAX_SCALE:  # also refuses nan and inf
        raise ValidationFailed(f"scale must be between {MIN_SCALE} and {MAX_SCALE}")
    return scale


def render_page(org_id: str, doc_id: str, number: int, scale: float, *, uow_factory: Callable,
                blobs: Any) -> PageImage:
    """Render 1-based page `number` of the organisation's PDF as PNG; NotFound for other formats or pages."""
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
    if doc.media_type != PDF:
        raise NotFound(f"document {doc_id} is not a PDF, so it has no page images", code="no_page_image")
    data = blobs.get(doc.blob_key)
    if not PDFIUM_LOCK.acquire(timeout=LOCK_WAIT_S):
        raise TransientError("the page renderer is busy; retry shortly", code="renderer_busy")
    try:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise InvalidDocument(f"document {doc_id} cannot be rendered: {exc}", code="unrenderable") from exc
        try:
            if not 1 <= number <= len(pdf):
                raise NotFound(f"document {doc_id} has pages 1..{len(pdf)} only")
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = min(scale, MAX_SIDE_PX / max(width, height, 1.0))
                image = page.render(scale=scale).to_pil()
            finally:
                page.close()
        finally:
            pdf.close()
    finally:
        PDFIUM_LOCK.release()
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    # the bitmap's own size over the scale is the rendered (rotated, cropped) page as the boxes see it
    return PageImage(png=out.getvalue(), width_pt=image.width / scale, height_pt=image.height / scale, scale=scale)
