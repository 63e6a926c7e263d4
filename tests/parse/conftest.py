"""Builders for documents the parse tests make themselves (reportlab PDFs, scanned pages, DOCX)."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
if not SHARED.is_dir():
    SHARED = Path("/work/shared")

LEASE_LINES = [
    "COMMERCIAL LEASE AGREEMENT",
    "This Lease is made between Harbor Point Properties LLC (the Landlord)",
    "and Jordan A. Whitfield (the Tenant) for the Premises at 1427 Alder Street.",
    "The Term begins on March 1, 2024 and ends on February 28, 2025.",
    "Tenant shall pay monthly base rent of $2,850.00 in advance.",
    "Tenant shall deposit a security deposit of $5,700.00 with Landlord.",
]


def make_text_pdf(pages: list[list[str]], *, font_size: int = 11, encrypt: str | None = None) -> bytes:
    """A text-layer PDF with one list of lines per page."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    kwargs = {}
    if encrypt is not None:
        from reportlab.lib import pdfencrypt
        kwargs["encrypt"] = pdfencrypt.StandardEncryption(encrypt, ownerPassword="owner-secret", strength=128)
    c = canvas.Canvas(buf, pagesize=letter, invariant=1, **kwargs)
    for lines in pages:
        c.setFont("Helvetica", font_size)
        y = 740
        for line in lines:
            c.drawString(72, y, line)
            y -= font_size * 1.6
        c.showPage()
    c.save()
    return buf.getvalue()


def render_text_image(lines: list[str], *, dpi: int = 200, rotate: int = 0):
    """A greyscale 'scan' of lines of text (letter size at `dpi`), optionally turned clockwise by `rotate`."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.5 * dpi), int(11 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    size = int(dpi * 12 / 72)
    font = None
    for candidate in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                      "LiberationSans-Regular.ttf"):
        try:
            font = ImageFont.truetype(candidate, size)
            break
        except OSError:
            continue
    if font is None:
        font = ImageFont.load_default(size=size)
    y = dpi
    for line in lines:
        draw.text((dpi, y), line, fill=0, font=font)
        y += int(size * 1.8)
    if rotate:
        image = image.rotate(-rotate, expand=True, fillcolor=255)
    return image


def make_scanned_pdf(images, *, text_pages: dict[int, list[str]] | None = None) -> bytes:
    """A PDF whose pages are the given images (image-only), with optional text-layer pages inserted by index."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    text_pages = text_pages or {}
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    slots = len(images) + len(text_pages)
    image_iter = iter(images)
    for index in range(slots):
        if index in text_pages:
            c.setFont("Helvetica", 11)
            y = 740
            for line in text_pages[index]:
                c.drawString(72, y, line)
                y -= 18
        else:
            image = next(image_iter)
            w, h = image.size
            page_w, page_h = (792, 612) if w > h else (612, 792)
            c.setPageSize((page_w, page_h))
            c.drawImage(ImageReader(image), 0, 0, width=page_w, height=page_h)
        c.showPage()
        c.setPageSize(letter)
    c.save()
    return buf.getvalue()


@pytest.fixture
def needs_tesseract():
    """Skip when the tesseract binary is not installed."""
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (make system-deps)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared folder (devset, badinputs, eval)."""
    if not SHARED.is_dir():
        pytest.skip("shared folder not found")
    return SHARED


@pytest.fixture(scope="session")
def make():
    """Document builders (conftest is not importable under --import-mode=importlib, so they come as a fixture)."""
    from types import SimpleNamespace

    return SimpleNamespace(text_pdf=make_text_pdf, scanned_pdf=make_scanned_pdf, image=render_text_image,
                           lease_lines=list(LEASE_LINES))
