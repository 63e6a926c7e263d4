"""Chunking keeps pages, exact offsets and section headings."""
from __future__ import annotations

from pipeline.index.chunk import chunk_document, embedding_text
from pipeline.parse.model import Page, ParsedDocument

PAGE1 = ("Office Lease - Harbor Point\n"
         "ARTICLE 1 - PREMISES\nLandlord leases to Tenant the Premises at 1 Main Street.\n"
         "ARTICLE 2 - RENT\n" + "Tenant shall pay Base Rent monthly in advance. " * 40 + "\n")
PAGE2 = ("Rent continues here without a heading, payable without deduction, offset or demand.\n"
         "12. Holdover.\nIf Tenant holds over, rent shall be 200% of the Base Rent.\n")


def _doc() -> ParsedDocument:
    return ParsedDocument(pages=[Page(1, PAGE1), Page(2, PAGE2)], media_type="pdf")


def test_chunk_text_is_exactly_the_page_slice_and_never_crosses_pages():
    doc = _doc()
    chunks = chunk_document(doc, org_id="o1", document_id="d1", max_chars=300, overlap=50)
    assert chunks
    for c in chunks:
        assert c.text == doc.page(c.page).text[c.start:c.end]
        assert c.text == c.text.strip()
        assert len(c.text) <= 300
        assert c.id == f"d1:{c.page}:{c.start}"
        assert c.org_id == "o1" and c.document_id == "d1"
    assert {c.page for c in chunks} == {1, 2}


def test_long_sections_are_split_with_overlap_and_keep_their_heading():
    chunks = chunk_document(_doc(), org_id="o1", document_id="d1", max_chars=300, overlap=50)
    rent = [c for c in chunks if c.page == 1 and c.section == "ARTICLE 2 - RENT"]
    assert len(rent) >= 5
    for a, b in zip(rent, rent[1:]):
        assert b.start < a.end  # overlapping windows
    assert all("ARTICLE 2 - RENT" in embedding_text(c) for c in rent)


def test_text_before_the_first_heading_continues_the_previous_pages_section():
    chunks = chunk_document(_doc(), org_id="o1", document_id="d1", max_chars=300, overlap=50)
    first_p2 = [c for c in chunks if c.page == 2][0]
    assert first_p2.start == 0
    assert first_p2.section == "ARTICLE 2 - RENT"
    holdover = [c for c in chunks if "200%" in c.text][0]
    assert holdover.page == 2 and "Holdover" in embedding_text(holdover)


def test_chunk_ids_are_deterministic():
    a = chunk_document(_doc(), org_id="o1", document_id="d1")
    b = chunk_document(_doc(), org_id="o1", document_id="d1")
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)


def test_context_metadata_prefixes_the_embedding_text():
    chunks = chunk_document(_doc(), org_id="o1", document_id="d1", metadata={"context": "Dallas lease"})
    assert embedding_text(chunks[0]).startswith("Dallas lease\n")
    assert "Dallas" not in chunks[0].text


def test_empty_pages_give_no_chunks():
    doc = ParsedDocument(pages=[Page(1, "  \n "), Page(2, "")], media_type="pdf")
    assert chunk_document(doc, org_id="o", document_id="d") == []
