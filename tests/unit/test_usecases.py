"""Use cases over in-memory fakes: ingest dedupes, processing is idempotent, failures end cleanly."""
from __future__ import annotations

import pytest
from core_fakes import (FakeBlobStore, FakeExtractor, FakeUowFactory, fake_check_upload, fake_parse)

from pipeline.domain.errors import InvalidDocument, NotFound
from pipeline.domain.events import DOCUMENT_DELETED, DOCUMENT_UPLOADED, EXTRACTION_COMPLETED
from pipeline.domain.model import DocumentStatus
from pipeline.usecases.delete import delete_document
from pipeline.usecases.extract import process_document, save_correction
from pipeline.usecases.ingest import ingest, safe_display_name

LEASE = b"LEASE\nLandlord: Harbor LLC\nTenant: Nimbus Inc.\n"


@pytest.fixture()
def env():
    return FakeUowFactory(), FakeBlobStore(), FakeExtractor()


def _ingest(env, data=LEASE, org="org-a", name="lease.txt"):
    uow, blobs, _ = env
    return ingest(org, name, data, uow_factory=uow, blobs=blobs, check_upload=fake_check_upload)


def test_ingest_queues_document_and_writes_outbox_event(env):
    doc, created = _ingest(env)
    assert created and doc.status == DocumentStatus.QUEUED
    events = env[0].state.outbox
    assert [e.type for e in events] == [DOCUMENT_UPLOADED]
    assert events[0].payload["document_id"] == doc.id


def test_same_bytes_same_org_return_existing_document(env):
    first, _ = _ingest(env)
    second, created = _ingest(env, name="copy.txt")
    assert not created and second.id == first.id
    assert len(env[0].state.documents) == 1 and len(env[0].state.outbox) == 1


def test_same_bytes_other_org_is_a_separate_document(env):
    a, _ = _ingest(env, org="org-a")
    b, created = _ingest(env, org="org-b")
    assert created and a.id != b.id


def test_empty_upload_is_refused_before_anything_is_stored(env):
    with pytest.raises(InvalidDocument):
        _ingest(env, data=b"")
    assert not env[1].blobs and not env[0].state.documents


def test_process_document_saves_version_one_with_citation(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env)
    ext = process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor)
    assert ext is not None and ext.version == 1
    tenant = ext.result.field("tenant")
    assert tenant.value == "Nimbus Inc." and tenant.citations[0].quote == "Nimbus Inc."
    stored = uow.state.documents[doc.id]
    assert stored.status == DocumentStatus.READY and stored.page_count == 1 and stored.parsed_key
    assert [e.type for e in uow.state.outbox][-1] == EXTRACTION_COMPLETED


def test_processing_twice_is_idempotent(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env)
    for _ in range(3):
        process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor)
    assert len(uow.state.extractions) == 1
    assert extractor.calls == 1


def test_unparseable_document_ends_failed_with_code(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env, data=b"   \n\t ")
    assert process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor) is None
    stored = uow.state.documents[doc.id]
    assert stored.status == DocumentStatus.FAILED and stored.error_code == "no_text"
    assert stored.error_message and not uow.state.extractions


def test_extractor_crash_fails_document_instead_of_leaving_it_processing(env):
    uow, blobs, _ = env

    class Boom(FakeExtractor):
        def extract(self, doc):
            raise RuntimeError("bug")

    doc, _ = _ingest(env)
    assert process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=Boom()) is None
    assert uow.state.documents[doc.id].status == DocumentStatus.FAILED


def test_correction_is_a_new_version_with_author(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env)
    process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor)
    ext = save_correction("org-a", doc.id, {"tenant": "Nimbus Analytics, Inc."}, uow_factory=uow, user="ana")
    assert ext.version == 2 and ext.created_by == "ana"
    assert ext.result.field("tenant").value == "Nimbus Analytics, Inc."
    assert len(uow.state.extractions) == 2


def test_delete_removes_rows_and_blob_and_emits_event(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env)
    process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor)
    delete_document("org-a", doc.id, uow_factory=uow, release_blob=blobs.delete)
    assert not uow.state.documents and not uow.state.extractions and not blobs.blobs
    assert uow.state.outbox[-1].type == DOCUMENT_DELETED


def test_delete_of_another_orgs_document_is_not_found(env):
    uow, blobs, _ = env
    doc, _ = _ingest(env, org="org-a")
    with pytest.raises(NotFound):
        delete_document("org-b", doc.id, uow_factory=uow, release_blob=blobs.delete)
    assert doc.id in uow.state.documents


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd", ".._.._etc_passwd"),
    ("lease\u202efdp.exe", "leasefdp.exe"),
    ("a\x00b.pdf", "ab.pdf"),
    ("", "upload"),
])
def test_upload_names_are_metadata_only(name, expected):
    assert safe_display_name(name) == expected


def test_very_long_names_are_bounded():
    assert len(safe_display_name("x" * 1000)) == 255


def test_progress_history_keeps_every_stage_in_order(env):
    uow, blobs, extractor = env
    doc, _ = _ingest(env)
    process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=extractor)
    history = uow.state.documents[doc.id].progress["history"]
    assert [h["stage"] for h in history] == ["queued", "parsing", "parsing", "extracting", "extracted"]
    assert [h["seq"] for h in history] == list(range(1, len(history) + 1))
