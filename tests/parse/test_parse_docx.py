"""DOCX: body order with tables, headers/footers, tracked changes, and hostile archives refused early."""
from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _rewrite(data: bytes, part: str, transform) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, transform(body) if info.filename == part else body)
    return out.getvalue()


def test_body_tables_headers_footers_in_order():
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Confidential lease header"
    d.sections[0].footer.paragraphs[0].text = "Page footer text"
    d.add_paragraph("The Landlord leases the Premises to the Tenant.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Base Rent", "$2,850.00 per month"
    table.cell(1, 0).text, table.cell(1, 1).text = "Security Deposit", "$5,700.00"
    d.add_paragraph("After the table comes the term clause.")
    doc = parse_document(_save(d))
    assert doc.page_count == 1 and doc.media_type.endswith("wordprocessingml.document")
    lines = doc.page(1).text.split("\n")
    assert lines == ["Confidential lease header", "The Landlord leases the Premises to the Tenant.",
                     "Base Rent\t$2,850.00 per month", "Security Deposit\t$5,700.00",
                     "After the table comes the term clause.", "Page footer text"]


def test_tracked_changes_keep_insertions_and_drop_deletions():
    d = docx.Document()
    d.add_paragraph("MARKER")

    def edit(body: bytes) -> bytes:
        tracked = (f'<w:r><w:t xml:space="preserve">Rent is </w:t></w:r>'
                   f'<w:del w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>$1,000</w:delText>'
                   f'</w:r></w:del><w:ins w:id="2" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r>'
                   f'<w:t>$2,850</w:t></w:r></w:ins><w:r><w:t xml:space="preserve"> monthly.</w:t></w:r>')
        return re.sub(rb"<w:r>(?:(?!</w:r>).)*MARKER(?:(?!</w:r>).)*</w:r>", tracked.encode(), body, flags=re.S)

    doc = parse_document(_rewrite(_save(d), "word/document.xml", edit))
    assert doc.page(1).text == "Rent is $2,850 monthly."


def test_dtd_in_any_part_is_refused_without_resolving():
    d = docx.Document()
    d.add_paragraph("Tenant")

    def inject(body: bytes) -> bytes:
        decl = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        return body.replace(b"?>", b"?>" + decl, 1)

    with pytest.raises(InvalidDocument) as info:
        parse_document(_rewrite(_save(d), "word/document.xml", inject))
    assert info.value.code == "unsafe_xml"


def test_declared_uncompressed_size_limit():
    d = docx.Document()
    d.add_paragraph("A" * 1000)
    d.add_paragraph("B" * 2_000_000)
    with pytest.raises(InvalidDocument) as info:
        parse_document(_save(d), limits=ParseLimits(max_zip_uncompressed_bytes=1_000_000))
    assert info.value.code == "decompression_bomb"


def test_high_ratio_member_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b"A" * 30_000_000 + b"</w:document>")
    with pytest.raises(InvalidDocument) as info:
        parse_document(out.getvalue())
    assert info.value.code == "decompression_bomb"


def test_broken_parts_fail_cleanly():
    d = docx.Document()
    d.add_paragraph("Tenant")
    broken = _rewrite(_save(d), "word/document.xml", lambda body: body[: len(body) // 2])
    with pytest.raises(InvalidDocument) as info:
        parse_document(broken)
    assert info.value.code == "corrupt_file"
