"""Damaged inputs of every format end as InvalidDocument or a document; never any other exception."""
from __future__ import annotations

import io

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document

LIMITS = ParseLimits(timeout_s=20, ocr_enabled=False)


def _docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("The Landlord leases the Premises to the Tenant.")
    d.add_table(rows=1, cols=2).cell(0, 0).text = "Rent"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def seeds(make) -> dict[str, bytes]:
    return {"pdf": make.text_pdf([make.lease_lines] * 2), "docx": _docx_bytes(),
            "html": b"<html><body><div><p>Landlord</p><table><tr><td>Rent</td></tr></table></div></body></html>",
            "text": "Landlord \u00e9 Tenant\r\n\fpage".encode("utf-16")}


def _mutate(data: bytes, cut: float, flips: list[tuple[float, int]]) -> bytes:
    out = bytearray(data[: max(1, int(len(data) * cut))])
    for where, value in flips:
        out[int(where * (len(out) - 1))] = value
    return bytes(out)


@pytest.mark.parametrize("kind", ["pdf", "docx", "html", "text"])
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.05, 1.0), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6))
def test_mutated_documents_fail_cleanly(seeds, kind, cut, flips):
    data = _mutate(seeds[kind], cut, flips)
    try:
        doc = parse_document(data, limits=LIMITS)
    except InvalidDocument as exc:
        assert exc.code and exc.code != "invalid_document" and exc.message
    else:
        assert doc.page_count >= 1 and any(p.text.strip() for p in doc.pages)
        for page in doc.pages:
            for box in page.boxes:
                assert 0 <= box.start < box.end <= len(page.text)
