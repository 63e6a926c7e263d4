"""Type sniffing from bytes and the upload check (extension only used to spot contradictions)."""
from __future__ import annotations

import io
import zipfile

import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.formats import DOCX, HTML, PDF, PARSERS, SUPPORTED, TEXT, check_upload, parser_for, sniff
from pipeline.parse.limits import ParseLimits


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, body in names.items():
            archive.writestr(name, body)
    return buf.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize("data, expected", [
    (b"%PDF-1.7\n...", PDF),
    (b"\xef\xbb\xbf<!DOCTYPE html><html><body>x</body></html>", HTML),
    (b"  <html><body><p>hi</p></body></html>", HTML),
    (b"<div>Lease</div>", HTML),
    (b"This lease is made between ...", TEXT),
    (b"# Lease\n\n* item", TEXT),
    ("Bail \u00e0 Paris".encode("utf-16"), TEXT),
])
def test_sniff_supported(data, expected):
    assert sniff(data) == expected


def test_sniff_docx_needs_word_document_part():
    assert sniff(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})) == DOCX
    with pytest.raises(InvalidDocument) as info:
        sniff(_zip({"hello.txt": b"hi"}))
    assert info.value.code == "unsupported_type"


@pytest.mark.parametrize("data", [PNG, b"\xff\xd8\xff\xe0JFIF", b"II*\x00....", b"MM\x00*....", b"GIF89a....",
                                  b"MZ\x90\x00", b"\x7fELF\x02"])
def test_sniff_rejects_images_and_binaries(data):
    with pytest.raises(InvalidDocument) as info:
        sniff(data)
    assert info.value.code == "unsupported_type"


def test_check_upload_codes():
    with pytest.raises(InvalidDocument) as info:
        check_upload(b"", "lease.pdf")
    assert info.value.code == "empty_file"
    with pytest.raises(InvalidDocument) as info:
        check_upload(b"%PDF-" + b"0" * 200, "lease.pdf", ParseLimits(max_bytes=100))
    assert info.value.code == "too_large"
    with pytest.raises(InvalidDocument) as info:
        check_upload(PNG, "scan.png")
    assert info.value.code == "unsupported_type"


@pytest.mark.parametrize("data, name", [
    (b"%PDF-1.4 ...", "lease.docx"),
    (PNG, "lease.pdf"),
    (b"This lease is made", "lease.png"),
    (b"<html><body>Not found</body></html>", "lease.docx"),
    (b"%PDF-1.4 ...", "lease.pdf.exe"),
])
def test_check_upload_type_mismatch(data, name):
    with pytest.raises(InvalidDocument) as info:
        check_upload(data, name)
    assert info.value.code in ("type_mismatch", "unsupported_type")
    if not data.startswith(b"\x89PNG"):
        assert info.value.code == "type_mismatch"


@pytest.mark.parametrize("name", ["lease.PDF", "lease", "", None, "lease.bin", "../../etc/passwd.pdf", "CON.pdf",
                                  "lease.pdf "])
def test_check_upload_type_from_bytes_and_unknown_extensions_pass(name):
    assert check_upload(b"%PDF-1.4 ...", name) == PDF


def test_text_with_markdown_extension_is_fine():
    assert check_upload(b"# Lease", "lease.md") == TEXT


def test_one_parser_per_supported_format():
    assert set(PARSERS) == set(SUPPORTED)
    for media_type in SUPPORTED:
        assert callable(parser_for(media_type))
