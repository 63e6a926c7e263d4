"""Plain text: encodings, clean-up, form-feed pages and garbage detection."""
from __future__ import annotations

import random

import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document
from pipeline.parse.text import decode_text

LEASE = "Lease between Fran\u00e7oise Lef\u00e8vre-N\u00fa\u00f1ez (Tenant) and Soci\u00e9t\u00e9 Immobili\u00e8re (Landlord). \u00a7 2: rent \u00bd due."


@pytest.mark.parametrize("encoded, encoding", [
    (LEASE.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + LEASE.encode("utf-8"), "utf-8"),
    (LEASE.encode("utf-16"), "utf-16"),
    (b"\xfe\xff" + LEASE.encode("utf-16-be"), "utf-16-be"),
    (LEASE.encode("latin-1"), "latin-1"),
    (LEASE.encode("cp1252"), "cp1252"),
])
def test_encodings_decode_to_the_same_text(encoded, encoding):
    doc = parse_document(encoded)
    assert doc.page(1).text == LEASE, encoding


def test_cjk_utf16_with_crlf():
    text = "Landlord: \u014ckami Estates \u682a\u5f0f\u4f1a\u793e\r\nTenant: Zo\u00eb \u00c5ngstr\u00f6m\r\n"
    doc = parse_document(text.encode("utf-16"))
    assert doc.page(1).text == text.replace("\r\n", "\n")


def test_newlines_nul_and_form_feed_pages():
    doc = parse_document(b"line one\r\nline two\rline three\nend\x00\x00\fpage two\fpage three")
    assert doc.page_count == 3
    assert doc.page(1).text == "line one\nline two\nline three\nend"
    assert [p.text for p in doc.pages[1:]] == ["page two", "page three"]


def test_invalid_utf8_bytes_replaced_not_fatal():
    text, _ = decode_text(b"Rent \xe9t\xe9 \xff\xfe\xfd ok " * 3 + "\u2019".encode())
    assert "Rent" in text


@pytest.mark.parametrize("data", [b" \t\n\r\n   ", "\u00a0\u2003 \n".encode("utf-8"), b"\x00\x00\x00"])
def test_whitespace_only_is_no_text(data):
    with pytest.raises(InvalidDocument) as info:
        parse_document(data)
    assert info.value.code == "no_text"


def test_binary_garbage_is_no_text():
    rng = random.Random(7)
    with pytest.raises(InvalidDocument) as info:
        parse_document(bytes(rng.randrange(256) for _ in range(65536)))
    assert info.value.code == "no_text"


def test_text_limit():
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"rent " * 1000, limits=ParseLimits(max_text_chars=100))
    assert info.value.code == "text_too_large"
