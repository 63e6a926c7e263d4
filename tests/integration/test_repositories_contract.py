"""One repository contract, run on SQLite and on Postgres (127.0.0.1:5432, a fresh database per session)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Iterator

import pytest

from pipeline.adapters.sql_engine import make_engine, migrate
from pipeline.adapters.sql_uow import SqlEventQueue, SqlUnitOfWorkFactory
from pipeline.domain.errors import Conflict, NotFound
from pipeline.domain.events import document_uploaded, extraction_completed
from pipeline.domain.model import (ApiKey, Document, DocumentStatus, Extraction, ExtractionResult, FieldStatus,
                                   FieldValue, new_id, utcnow)
from support.postgres import fresh_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated Postgres database; skipped with the reason when the server is absent."""
    with fresh_database("atlas_contract") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    else:
        eng = make_engine(request.getfixturevalue("postgres_url"), pool_size=2)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def uow(engine):  # type: ignore[no-untyped-def]
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture()
def orgs(uow) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with uow() as u:
        a = u.keys.create_org(f"a-{uuid.uuid4().hex[:8]}")
        b = u.keys.create_org(f"b-{uuid.uuid4().hex[:8]}")
        u.commit()
    return a.id, b.id


def _doc(org: str, content_hash: str | None = None) -> Document:
    h = content_hash or uuid.uuid4().hex * 2
    return Document(id=new_id(), org_id=org, filename="lease ü.pdf", content_hash=h, size_bytes=10,
                    media_type="application/pdf", blob_key=f"sha256/{h[:2]}/{h}",
                    progress={"stage": "queued", "message": "waiting"}, warnings=[{"code": "w", "message": "m"}])


def _extraction(doc: Document, version: int, extractor_version: str = "rules-1") -> Extraction:
    result = ExtractionResult(fields={"tenant": FieldValue(value="Acme", raw="ACME", confidence=0.9,
                                                           status=FieldStatus.FOUND)})
    return Extraction(id=new_id(), document_id=doc.id, org_id=doc.org_id, version=version, result=result,
                      extractor_version=extractor_version, content_hash=doc.content_hash)


def test_document_round_trips_with_json_and_aware_times(uow, orgs) -> None:  # type: ignore[no-untyped-def]
    a, _ = orgs
    doc = _doc(a)
    with uow() as u:
        u.documents.add(doc)
        u.commit()
    with uow() as u:
        got = u.documents.get(a, doc.id)
    assert got.filename == "lease ü.pdf"
    assert got.progress == {"stage": "queued", "message": "waiting"}
    assert got.warnings == [{"code": "w", "message": "m"}]
    assert got.status is DocumentStatus.QUEUED
    assert got.created_at.tzinfo is not None
    assert abs(got.created_at - doc.created_at) < timedelta(seconds=1)


def test_documents_are_scoped_by_organisation(uow, orgs) -> None:  # type: ignore[no-untyped-def]
    a, b = orgs
    doc = _doc(a)
    with uow() as u:
        u.documents.add(doc)
        u.commit()
    with uow() as u:
        with pytest.raises(NotFound):
            u.documents.get(b, doc.id)
        assert u.documents.find_by_hash(b, doc.content_hash) is None
        assert u.documents.list(b) == []
        assert [d.id for d in u.documents.list(a)] == [doc.id]
        assert u.documents.get_any_org(doc.id).org_id == a


def test_same_bytes_twice_in_one_org_conflict_and_the_transaction_survives(uow, orgs) -> None:  # type: ignore[no-untyped-def]
    a, b = orgs
    first = _doc(a)
    with uow() as u:
        u.documents.add(first)
        with pytest.raises(Conflict):
            u.documents.add(_doc(a, first.content_hash))
        u.documents.add(_doc(b, first.content_hash))  # another org may hold the same bytes
        u.commit()
    with uow() as u:
        assert (u.documents.count(a), u.documents.count(b)) == (1, 1)


def test_update_and_delete_document(uow, orgs) -> None:  # type: ignore[no-untyped-def]
    a, _ = orgs
    doc = _doc(a)
    with uow() as u:
        u.documents.add(doc)
        u.extractions.add(_extraction(doc, 1))
        u.commit()
    doc.status = DocumentStatus.FAILED
    doc.error_code = "corrupt"
    with uow() as u:
        u.documents.update(doc)
        u.commit()
    with uow() as u:
        assert u.documents.get(a, doc.id).error_code == "corrupt"
        u.documents.delete(a, doc.id)
        u.commit()
    with uow() as u:
        with pytest.raises(NotFound):
            u.documents.get(a, doc.id)
        assert u.extractions.count(doc.id) == 0


def test_extraction_versions_are_unique_and_ordered(uow, orgs) -> None:  # type: ignore[no-untyped-def]
    a, b = orgs
    doc = _doc(a)
    with uow() as u:
        u.documents.add(doc)
        u.extractions.add(_extraction(doc, 1))
        assert u.extractions.next_version(doc.id) == 2
        with pytest.raises(Conflict):
            u.extractions.add(_extraction(doc, 1))
        u.extractions.add(_extraction(doc, 2, "rules-2"))
        u.commit()
    with uow() as u:
        assert u.extractions.versions(a, doc.id) == [1, 2]
        assert u.extractions.latest(a, doc.id).version == 2
        assert u.extractions.latest(b, doc.id) is None
        assert u.extractions.find(a, doc.id, doc.content_hash, "rules-1").version == 1
        assert u.extractions.find(a, doc.id, doc.content_hash, "rules-9") is None
        assert [e.version for e in u.extractions.list_latest(a)] == [2]
        assert u.extractions.get_version(a, doc.id, 1).result.field("tenant").value == "Acme"


def test_rollback_discards_the_change_and_its_event(uow, orgs, engine) -> None:  # type: ignore[no-untyped-def]
    a, _ = orgs
    doc = _doc(a)
    with uow() as u:
        u.documents.add(doc)
        u.outbox.add(document_uploaded(a, doc.id, doc.content_hash))
    with uow() as u:
        assert u.documents.find_by_hash(a, doc.content_hash) is None
    assert SqlEventQueue(engine).claim() == []


def test_queue_claim_ack_nack_dead_and_release(uow, engine) -> None:  # type: ignore[no-untyped-def]
    q = SqlEventQueue(engine, max_attempts=2)
    evs = [document_uploaded("o", "d1", "h"), extraction_completed("o", "d1", 1)]
    with uow() as u:
        for ev in evs:
            u.outbox.add(ev)
        u.commit()
    [(seq1, got1, attempt1)] = q.claim(limit=1)
    assert (got1.id, attempt1) == (evs[0].id, 1)
    [(seq2, got2, _)] = q.claim(("extraction.completed",), limit=5)
    assert got2 == evs[1]
    assert q.claim() == []  # both held under a lease
    q.ack(seq2)
    assert q.nack(seq1, "boom", retry_in_s=0) == "pending"
    [(seq1b, _, attempt2)] = q.claim()
    assert attempt2 == 2
    q.release(seq1b)
    [(_, _, attempt_again)] = q.claim()
    assert attempt_again == 2  # a release is not an attempt
    assert q.nack(seq1, "boom", retry_in_s=0) == "dead"
    assert q.depth() == {"dead": 1, "done": 1}


def test_processed_events_deduplicate(engine) -> None:  # type: ignore[no-untyped-def]
    q = SqlEventQueue(engine)
    eid = new_id()
    assert not q.was_processed("dispatcher", eid)
    assert q.mark_processed("dispatcher", eid) is True
    assert q.mark_processed("dispatcher", eid) is False
    assert q.was_processed("dispatcher", eid)
    assert not q.was_processed("other", eid)


def test_organisations_and_keys(uow) -> None:  # type: ignore[no-untyped-def]
    name = f"org-{uuid.uuid4().hex[:8]}"
    with uow() as u:
        org = u.keys.create_org(name)
        with pytest.raises(Conflict):
            u.keys.create_org(name)
        key = ApiKey(id=new_id(), org_id=org.id, prefix=uuid.uuid4().hex[:8], key_hash="x" * 64,
                     expires_at=utcnow() + timedelta(days=1))
        u.keys.add_key(key)
        u.commit()
    with uow() as u:
        assert u.keys.get_org_by_name(name).id == org.id
        [found] = list(u.keys.find_key(key.prefix))
        assert found.expires_at.tzinfo is not None
        u.keys.revoke_key(key.id)
        u.commit()
    with uow() as u:
        assert u.keys.list_keys(org.id)[0].revoked_at is not None


def test_webhooks_enqueue_claim_record_and_scope(uow, orgs):  # type: ignore[no-untyped-def]
    from pipeline.domain.webhooks import Webhook

    a, b = orgs
    with uow() as u:
        u.webhooks.add(Webhook(id=new_id(), org_id=a, url="https://a.example/hook", secret="s",
                               events=["document.ready"]))
        u.webhooks.add(Webhook(id=new_id(), org_id=a, url="https://a.example/failed", secret="s",
                               events=["document.failed"]))
        assert u.webhooks.enqueue(a, "document.ready", {"document_id": "d1"}) == 1
        assert u.webhooks.enqueue(b, "document.ready", {"document_id": "d2"}) == 0  # B has no endpoints
        u.commit()
    with uow() as u:
        first = u.webhooks.claim_due(10, lease_s=60)
        u.commit()
    with uow() as u:
        assert u.webhooks.claim_due(10, lease_s=60) == []  # claimed: a second sender gets nothing
    assert len(first) == 1 and first[0][0].payload == {"document_id": "d1"} and first[0][1].org_id == a
    delivery, hook = first[0]
    delivery.status, delivery.attempts, delivery.last_status_code = "delivered", 1, 204
    with uow() as u:
        u.webhooks.record(delivery)
        u.commit()
    with uow() as u:
        log = u.webhooks.deliveries(a, hook.id, limit=10)
        assert [(d.status, d.attempts, d.last_status_code) for d in log] == [("delivered", 1, 204)]
        with pytest.raises(NotFound):
            u.webhooks.deliveries(b, hook.id, limit=10)
        with pytest.raises(NotFound):
            u.webhooks.delete(b, hook.id)
        u.webhooks.delete(a, hook.id)
        u.commit()
    with uow() as u:
        assert [h.url for h in u.webhooks.list(a)] == ["https://a.example/failed"]
