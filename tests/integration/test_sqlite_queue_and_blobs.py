"""The embedded adapters against the real thing: SQLite (migrated by Alembic), the outbox queue, the blob folder."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from pipeline.adapters.fs_blobstore import FsBlobStore, blob_key_for
from pipeline.adapters.sql_engine import is_migrated, make_engine, migrate
from pipeline.adapters.sql_uow import SqlEventQueue, SqlUnitOfWorkFactory, recover_claims
from pipeline.domain.errors import NotFound, TransientError, ValidationFailed
from pipeline.domain.events import DOCUMENT_UPLOADED, Event, document_uploaded
from pipeline.domain.model import Document, new_id
from pipeline.keys import authenticate, create_key
from pipeline.worker import Worker


@pytest.fixture()
def engine(tmp_path: Path):
    eng = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    migrate(eng)
    return eng


def _queue_event(engine, org="o1", doc="d1") -> Event:
    ev = document_uploaded(org, doc, "h")
    uow = SqlUnitOfWorkFactory(engine)
    with uow() as u:
        u.outbox.add(ev)
        u.commit()
    return ev


def test_migrations_are_idempotent(engine):
    migrate(engine)
    assert is_migrated(engine)


def test_rollback_discards_document_and_event_together(engine):
    uow = SqlUnitOfWorkFactory(engine)
    doc = Document(id=new_id(), org_id="o", filename="a", content_hash="h", size_bytes=1, media_type="text/plain",
                   blob_key="k")
    with uow() as u:
        u.keys.conn.execute  # repositories share one connection
        from pipeline.adapters import sql_tables as t
        u.conn.execute(t.organisations.insert().values(id="o", name="o", created_at=doc.created_at))
        u.commit()
    with uow() as u:
        u.documents.add(doc)
        u.outbox.add(document_uploaded("o", doc.id, "h"))
        # no commit: leaving the block rolls back
    with uow() as u:
        assert u.documents.find_by_hash("o", "h") is None
        assert u.outbox.pending_count() == 0


def test_claimed_event_survives_a_crash_and_is_recovered(engine):
    ev = _queue_event(engine)
    q = SqlEventQueue(engine)
    claimed = q.claim()
    assert [c[1].id for c in claimed] == [ev.id]
    assert q.claim() == []  # leased to the (now crashed) worker
    assert recover_claims(engine) == 1
    again = SqlEventQueue(engine).claim()
    assert [c[1].id for c in again] == [ev.id]


def test_expired_lease_is_reclaimed_without_recovery(engine):
    _queue_event(engine)
    q = SqlEventQueue(engine, lease_s=-1)
    assert q.claim() and q.claim()


def test_duplicate_delivery_is_detected(engine):
    q = SqlEventQueue(engine)
    assert q.mark_processed("c", "e1") is True
    assert q.mark_processed("c", "e1") is False
    assert q.was_processed("c", "e1")


def test_worker_retries_transient_errors_then_succeeds(engine):
    ev = _queue_event(engine)
    calls = []

    def handler(e: Event) -> None:
        calls.append(e.id)
        if len(calls) < 3:
            raise TransientError("bus down")

    w = Worker(SqlEventQueue(engine), {DOCUMENT_UPLOADED: handler}, base_backoff_s=0.0)
    w.drain(timeout_s=10)
    assert calls == [ev.id] * 3
    assert SqlEventQueue(engine).depth() == {"done": 1}


def test_poison_event_is_dead_lettered_and_does_not_block_others(engine):
    bad = _queue_event(engine, doc="bad")
    good = _queue_event(engine, doc="good")
    handled, dead = [], []

    def handler(e: Event) -> None:
        if e.payload["document_id"] == "bad":
            raise ValueError("poison")
        handled.append(e.id)

    w = Worker(SqlEventQueue(engine, max_attempts=3), {DOCUMENT_UPLOADED: handler}, base_backoff_s=0.0,
               on_dead=lambda e, err: dead.append(e.id))
    w.drain(timeout_s=10)
    assert handled == [good.id] and dead == [bad.id]
    assert SqlEventQueue(engine).depth() == {"dead": 1, "done": 1}


def test_concurrent_claims_never_hand_one_event_to_two_workers(engine):
    for i in range(20):
        _queue_event(engine, doc=f"d{i}")
    got: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        q = SqlEventQueue(engine)
        for _ in range(30):
            for _, ev, _ in q.claim(limit=2):
                with lock:
                    got.append(ev.id)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 20 and len(set(got)) == 20


def test_api_keys_hash_revoke_and_expire(engine):
    uow = SqlUnitOfWorkFactory(engine)
    org, clear, key = create_key("acme", uow_factory=uow, pepper="p" * 20)
    assert authenticate(clear, uow_factory=uow, pepper="p" * 20) == org.id
    with uow() as u:
        stored = u.keys.list_keys(org.id)[0]
        assert clear not in stored.key_hash and stored.last_used_at is not None
        u.keys.revoke_key(key.id)
        u.commit()
    from pipeline.domain.errors import Unauthorized
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(clear, uow_factory=uow, pepper="p" * 20)
    with pytest.raises(Unauthorized):
        authenticate(clear.replace(clear[-4:], "AAAA"), uow_factory=uow, pepper="p" * 20)


def test_blob_store_is_content_addressed_and_atomic(tmp_path: Path):
    store = FsBlobStore(tmp_path / "blobs")
    key = store.put(b"lease bytes")
    assert key == blob_key_for(b"lease bytes") and store.get(key) == b"lease bytes"
    assert store.put(b"lease bytes") == key
    leftovers = [p for p in (tmp_path / "blobs").rglob(".tmp-*")]
    assert not leftovers
    store.delete(key)
    with pytest.raises(NotFound):
        store.get(key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "sha256/aa/../../x", "/etc/passwd", "sha256/zz/" + "0" * 64])
def test_blob_keys_cannot_escape_the_root(tmp_path: Path, key: str):
    store = FsBlobStore(tmp_path / "blobs")
    with pytest.raises(ValidationFailed):
        store.get(key)
    assert os.listdir(tmp_path) == ["blobs"]


def test_batch_handler_receives_many_events_at_once_and_acks_all(engine):
    from pipeline.domain.events import EXTRACTION_COMPLETED, extraction_completed
    from pipeline.search_wiring import BatchHandler

    uow = SqlUnitOfWorkFactory(engine)
    with uow() as u:
        for i in range(5):
            u.outbox.add(extraction_completed("o", f"d{i}", 1))
        u.commit()
    batches: list[int] = []
    handler = BatchHandler(lambda evs: batches.append(len(evs)), batch_size=3)
    Worker(SqlEventQueue(engine), {EXTRACTION_COMPLETED: handler}).drain(timeout_s=10)
    assert batches == [3, 2]
    assert SqlEventQueue(engine).depth() == {"done": 5}


def test_failed_batch_is_retried_whole(engine):
    from pipeline.domain.events import EXTRACTION_COMPLETED, extraction_completed
    from pipeline.search_wiring import BatchHandler

    uow = SqlUnitOfWorkFactory(engine)
    with uow() as u:
        for i in range(2):
            u.outbox.add(extraction_completed("o", f"d{i}", 1))
        u.commit()
    calls: list[int] = []

    def flaky(evs):
        calls.append(len(evs))
        if len(calls) == 1:
            raise TransientError("index busy")

    Worker(SqlEventQueue(engine), {EXTRACTION_COMPLETED: BatchHandler(flaky, 8)}, base_backoff_s=0.0).drain(timeout_s=10)
    assert calls == [2, 2] and SqlEventQueue(engine).depth() == {"done": 2}
