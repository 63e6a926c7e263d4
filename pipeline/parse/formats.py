"""Type detection from magic bytes, the cheap upload check, and the one format -> parser table."""
from __future__ import annotations

import importlib
import io
import zipfile
from typing import TYPE_CHECKING, Callable

from pipeline.domain.errors import InvalidDocument

if TYPE_CHECKING:
    from pipeline.parse.limits import Deadline, ParseLimits
    from pipeline.parse.model import ParsedDocument

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
TEXT = "text/plain"

SUPPORTED = (PDF, DOCX, HTML, TEXT)

# media type -> "module:function"; imported lazily so a text upload never loads pdfium or lxml.
PARSERS: dict[str, str] = {
    PDF: "pipeline.parse.pdf:parse_pdf",
    DOCX: "pipeline.parse.docx:parse_docx",
    HTML: "pipeline.parse.html:parse_html",
    TEXT: "pipeline.parse.text:parse_text",
}

# Declared extensions we understand: which sniffed types each may legitimately carry.
_EXTENSION_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": (PDF,),
    "docx": (DOCX,),
    "docm": (DOCX,),
    "html": (HTML,),
    "htm": (HTML,),
    "xhtml": (HTML,),
    "txt": (TEXT,),
    "text": (TEXT,),
    "md": (TEXT,),
    "markdown": (TEXT,),
    "csv": (TEXT,),
}
# Extensions that name some other, definite type: carrying a lease under them is a contradiction.
_FOREIGN_EXTENSIONS = frozenset({
    "png", "jpg", "jpeg", "gif", "tif", "tiff", "bmp", "webp", "heic", "svg",
    "doc", "xls", "xlsx", "ppt", "pptx", "odt", "rtf", "zip", "gz", "tgz", "7z", "rar",
    "exe", "dll", "msi", "bat", "cmd", "com", "sh", "js", "jar", "apk", "dmg", "iso",
    "mp3", "mp4", "mov", "avi", "wav",
})

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "bitmap image"),
    (b"RIFF", "RIFF media file"),
)
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office (OLE) file"),
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "executable"),
    (b"{\\rtf", "RTF document"),
)
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<div", "<p>",
                 "<p ", "<table", "<font", "<br", "<center", "<h1", "<script", "<style")


def _unsupported(what: str) -> InvalidDocument:
    return InvalidDocument(f"This file is a {what}, which Atlas cannot read; upload a PDF, DOCX, HTML or text file.",
                           code="unsupported_type")


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InvalidDocument("The file looks like a ZIP/DOCX archive but it is damaged and cannot be opened.",
                              code="corrupt_file") from exc
    if "word/document.xml" in names:
        return DOCX
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        raise InvalidDocument("This Word file has no main document part (word/document.xml); it is damaged.",
                              code="corrupt_file")
    raise _unsupported("ZIP archive that is not a Word document")


def _text_head(data: bytes) -> str:
    head = data[:4096]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="ignore")
    return head.decode("latin-1")


def sniff(data: bytes) -> str:
    """The media type of `data`, judged from its bytes only; raises InvalidDocument for anything unsupported."""
    if not data:
        raise InvalidDocument("The file is empty.", code="empty_file")
    # PDF headers may sit after a little junk; the spec readers accept up to 1 KiB.
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise _unsupported("ZIP archive that is not a Word document")
    for magic, what in _IMAGE_MAGIC + _BINARY_MAGIC:
        if data.startswith(magic):
            raise _unsupported(what)
    head = _text_head(data).lstrip().lower()
    if head.startswith("<") and any(marker in head[:2048] for marker in _HTML_MARKERS):
        return HTML
    return TEXT


def declared_extension(filename: str | None) -> str:
    """The lower-case extension of a client-supplied name (never used as a path), or ''."""
    if not filename:
        return ""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    if "." not in base:
        return ""
    return base.rsplit(".", 1)[-1].lower()


def check_upload(data: bytes, filename: str | None, limits: "ParseLimits | None" = None) -> str:
    """Cheap upload-time check: empty, too large, unsupported or contradicting its name -> InvalidDocument; else the media type."""
    from pipeline.parse.limits import ParseLimits

    limits = limits or ParseLimits()
    limits.check_size(data)
    media_type = sniff(data)
    ext = declared_extension(filename)
    allowed = _EXTENSION_TYPES.get(ext)
    if (allowed is not None and media_type not in allowed) or ext in _FOREIGN_EXTENSIONS:
        raise InvalidDocument(f"The file is named '.{ext}' but its contents are {describe(media_type)}; "
                              "rename or re-export it and upload again.", code="type_mismatch")
    return media_type


def describe(media_type: str) -> str:
    """A human name for a supported media type."""
    return {PDF: "a PDF", DOCX: "a Word (DOCX) document", HTML: "an HTML page", TEXT: "plain text"}.get(
        media_type, media_type)


Parser = Callable[[bytes, "ParseLimits", "Deadline", Callable[[str, str], None]], "ParsedDocument"]


def parser_for(media_type: str) -> Parser:
    """The parse function registered for a media type."""
    try:
        target = PARSERS[media_type]
    except KeyError:
        raise _unsupported(media_type) from None
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)
