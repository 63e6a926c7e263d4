"""Amendments are linked to their lease in the same organisation and consolidated into current terms."""
from __future__ import annotations

import time

import pytest

from own_docs import DARTMOUTH_LEASE, HALIFAX_AMENDMENT, HALIFAX_LEASE

PAIRS = [("docs/D001.pdf", "docs/D010.pdf"), ("docs/D003.pdf", "docs/D017.pdf"),
         ("docs/D025.docx", "docs/D028.docx")]


def _cited_by(entry: dict, doc_id: str) -> bool:
    return entry["document_id"] == doc_id and entry["citations"] and \
        all(c["document_id"] == doc_id for c in entry["citations"])


@pytest.mark.parametrize("lease_file,amend_file", PAIRS)
def test_devset_amendment_links_and_consolidates(stack, truth, lease_file, amend_file) -> None:
    assert truth[amend_file]["amends"] == lease_file
    lease_id = stack.upload_devset(stack.org_a, lease_file)
    amend_id = stack.upload_devset(stack.org_a, amend_file)
    assert stack.document(stack.org_a, amend_id).amends_document_id == lease_id
    assert stack.document(stack.org_a, lease_id).amends_document_id is None

    terms = stack.consolidated(stack.org_a, lease_id)
    assert terms == stack.consolidated(stack.org_a, amend_id) | {"requested_document_id": lease_id}
    amended, original = truth[amend_file]["fields"], truth[lease_file]["fields"]
    f = terms["fields"]
    assert f["expiration_date"]["value"] == amended["expiration_date"]
    assert _cited_by(f["expiration_date"], amend_id)
    assert f["base_rent_monthly"]["value"] == amended["base_rent_monthly"]
    assert _cited_by(f["base_rent_monthly"], amend_id)
    assert f["commencement_date"]["value"] == original["commencement_date"]
    assert _cited_by(f["commencement_date"], lease_id)
    # the lease's own expiration is kept as history, cited to the lease
    assert [h["value"] for h in terms["history"]["expiration_date"]] == [original["expiration_date"]]
    assert terms["history"]["expiration_date"][0]["document_id"] == lease_id
    # the schedule runs on the lease's periods and ends with the amendment's
    sched = terms["rent_schedule"]
    assert sched[0]["document_id"] == lease_id and sched[-1]["document_id"] == amend_id
    assert sched[-1]["end"] == amended["expiration_date"]
    assert [p["monthly_rent"] for p in sched if p["document_id"] == amend_id] == \
        [p["monthly_rent"] for p in truth[amend_file]["rent_schedule"]]
    assert all(a["end"] < b["start"] for a, b in zip(sched, sched[1:]))
    assert [(s["document_id"], s["role"]) for s in terms["sources"]] == [(lease_id, "base_lease"),
                                                                       (amend_id, "amendment")]


def test_scanned_amendment_links(stack, truth) -> None:
    """D023 is an image-only PDF: it needs OCR, so skip where that is unavailable or slow."""
    import shutil

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed; the scanned amendment cannot be read")
    lease_id = stack.upload_devset(stack.org_a, "docs/D005.pdf")
    started = time.monotonic()
    amend_id = stack.upload_devset(stack.org_a, "docs/D023.pdf")
    if time.monotonic() - started > 60:
        pytest.skip("OCR of the scanned amendment took over a minute on this machine")
    assert stack.document(stack.org_a, amend_id).amends_document_id == lease_id
    terms = stack.consolidated(stack.org_a, lease_id)
    assert terms["fields"]["expiration_date"]["value"] == truth["docs/D023.pdf"]["fields"]["expiration_date"]


def test_own_style_extension_overrides_term_and_rent(stack) -> None:
    other = stack.upload(stack.org_a, "dartmouth-lease.txt", DARTMOUTH_LEASE.encode())
    lease_id = stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode())
    amend_id = stack.upload(stack.org_a, "halifax-first-amendment.txt", HALIFAX_AMENDMENT.encode())

    # same tenant, but the other lease's building differs: the amendment picks the Halifax lease
    assert stack.document(stack.org_a, amend_id).amends_document_id == lease_id
    terms = stack.consolidated(stack.org_a, lease_id)
    f = terms["fields"]
    assert f["expiration_date"]["value"] == "2028-03-31" and _cited_by(f["expiration_date"], amend_id)
    assert f["base_rent_monthly"]["value"] == 6600.0 and _cited_by(f["base_rent_monthly"], amend_id)
    assert "31 March 2028" in f["expiration_date"]["citations"][0]["quote"]
    assert f["commencement_date"]["value"] == "2022-04-01" and _cited_by(f["commencement_date"], lease_id)
    assert f["governing_law"]["value"] == "Nova Scotia" and _cited_by(f["governing_law"], lease_id)
    assert f["term_months"]["value"] == 72 and f["term_months"]["history"][0]["value"] == 36
    assert [(p["start"], p["end"], p["monthly_rent"], p["document_id"]) for p in terms["rent_schedule"]] == [
        ("2022-04-01", "2025-03-31", 6000.0, lease_id), ("2025-04-01", "2028-03-31", 6600.0, amend_id)]
    assert f["base_rent_monthly"]["history"] == [
        {"value": 6000.0, "document_id": lease_id,
         "citations": terms["fields"]["base_rent_monthly"]["history"][0]["citations"]}]
    assert other not in {s["document_id"] for s in terms["sources"]}
    # the other lease is untouched by the amendment
    assert stack.consolidated(stack.org_a, other)["fields"]["expiration_date"]["value"] == "2026-05-31"


def test_amendment_uploaded_before_its_lease_links_when_the_lease_arrives(stack) -> None:
    amend_id = stack.upload(stack.org_a, "halifax-first-amendment.txt", HALIFAX_AMENDMENT.encode())
    assert stack.document(stack.org_a, amend_id).amends_document_id is None
    alone = stack.consolidated(stack.org_a, amend_id)
    assert alone["amendment_count"] == 0 and alone["sources"][0]["role"] == "amendment"

    unrelated = stack.upload(stack.org_a, "dartmouth-lease.txt", DARTMOUTH_LEASE.encode())
    assert stack.document(stack.org_a, amend_id).amends_document_id is None  # an unrelated lease is not chosen
    lease_id = stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode())
    assert stack.document(stack.org_a, amend_id).amends_document_id == lease_id
    assert stack.consolidated(stack.org_a, amend_id)["fields"]["expiration_date"]["document_id"] == amend_id
    assert unrelated != lease_id


def test_amendment_of_another_organisations_lease_is_not_linked(stack) -> None:
    lease_b = stack.upload(stack.org_b, "halifax-lease.txt", HALIFAX_LEASE.encode())
    amend_a = stack.upload(stack.org_a, "halifax-first-amendment.txt", HALIFAX_AMENDMENT.encode())
    assert stack.document(stack.org_a, amend_a).amends_document_id is None
    # org B's lease sees nothing of org A's amendment either
    terms_b = stack.consolidated(stack.org_b, lease_b)
    assert terms_b["amendment_count"] == 0
    assert terms_b["fields"]["expiration_date"]["value"] == "2025-03-31"
    from pipeline.domain.errors import NotFound

    with pytest.raises(NotFound):
        stack.consolidated(stack.org_b, amend_a)


def test_devset_amendment_does_not_link_to_an_unrelated_lease(stack) -> None:
    stack.upload_devset(stack.org_a, "docs/D003.pdf")  # a different tenant and building
    stack.upload(stack.org_a, "halifax-lease.txt", HALIFAX_LEASE.encode())
    amend_id = stack.upload_devset(stack.org_a, "docs/D010.pdf")
    assert stack.document(stack.org_a, amend_id).amends_document_id is None
