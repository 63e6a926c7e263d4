"""Idempotency-Key on POSTs, concurrent duplicate uploads and concurrent re-extractions: exactly one of each."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from reliability_support import Live, counts
from pipeline.adapters import sql_tables as t
from pipeline.handlers import build_handlers
from pipeline.worker import Worker

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\nBase Rent: $4,000.00 per month.\n")
OTHER = LEASE.replace(b"Nimbus Inc.", b"Cumulus Ltd.")


@pytest.fixture()
def srv(tmp_path: Path):
    s = Live(tmp_path / "data", worker=False)
    yield s
    s.close()


def _post(srv: Live, data: bytes, *, key: str | None = None, idem: str | None = None,
          name: str = "lease.txt") -> requests.Response:
    headers = srv.auth(key or srv.key_a)
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return requests.post(f"{srv.url}/v1/documents", headers=headers, files={"file": (name, data)}, timeout=60)


def test_same_key_same_body_replays_the_first_response(srv: Live):
    first = _post(srv, LEASE, idem="k-1")
    assert first.status_code == 202
    again = _post(srv, LEASE, idem="k-1")
    # the stored first answer (202, duplicate=false), not the 200 "duplicate" a keyless resend would get
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers["Location"] == first.headers["Location"]
    keyless = _post(srv, LEASE)
    assert keyless.status_code == 200 and keyless.json()["duplicate"] is True
    c = counts(srv.services.engine)
    assert c["documents"] == 1 and c["outbox"] == {"pending": 1}


def test_same_key_different_body_is_409_and_stores_nothing(srv: Live):
    assert _post(srv, LEASE, idem="k-2").status_code == 202
    clash = _post(srv, OTHER, idem="k-2")
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_conflict"
    renamed = _post(srv, LEASE, idem="k-2", name="other-name.txt")
    assert renamed.status_code == 409  # the file name is part of the request
    assert counts(srv.services.engine)["documents"] == 1


def test_keys_are_per_organisation(srv: Live):
    a = _post(srv, LEASE, idem="shared-key")
    b = _post(srv, OTHER, key=srv.key_b, idem="shared-key")
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"] and b.json()["org_id"] != a.json()["org_id"]


def test_errors_are_not_remembered_and_bad_keys_refused(srv: Live):
    empty = _post(srv, b"", idem="k-3")
    assert empty.status_code == 400
    ok = _post(srv, LEASE, idem="k-3")  # the client fixed the upload and retried with the same key
    assert ok.status_code == 202
    assert _post(srv, LEASE, idem="x" * 201).status_code == 400
    assert _post(srv, LEASE, idem="").status_code == 400


def test_concurrent_sends_with_one_key_make_one_document(srv: Live):
    with ThreadPoolExecutor(8) as pool:
        resps = list(pool.map(lambda _: _post(srv, LEASE, idem="burst"), range(8)))
    assert all(r.status_code in (200, 202) for r in resps), [r.status_code for r in resps]
    assert len({r.json()["id"] for r in resps}) == 1
    c = counts(srv.services.engine)
    assert c["documents"] == 1 and c["outbox"] == {"pending": 1}


def test_concurrent_duplicate_uploads_make_one_document(srv: Live):
    barrier = threading.Barrier(10)

    def send(_: int) -> requests.Response:
        barrier.wait()
        return _post(srv, OTHER)

    with ThreadPoolExecutor(10) as pool:
        resps = list(pool.map(send, range(10)))
    codes = sorted(r.status_code for r in resps)
    assert codes == [200] * 9 + [202], codes
    assert len({r.json()["id"] for r in resps}) == 1
    c = counts(srv.services.engine)
    assert c["documents"] == 1 and c["outbox"] == {"pending": 1}  # exactly one document.uploaded event


def test_duplicate_event_delivery_is_handled_once(srv: Live):
    doc_id = _post(srv, LEASE).json()["id"]
    svc = srv.services
    worker = Worker(svc.queue, build_handlers(svc, with_index=False))
    assert worker.drain(timeout_s=60) == 1
    # at-least-once delivery: the same event comes back (e.g. an ack lost after the work was done)
    with svc.engine.begin() as conn:
        conn.execute(update(t.outbox).where(t.outbox.c.type == "document.uploaded").values(status="pending"))
    calls: list[str] = []
    handlers = build_handlers(svc, with_index=False)
    real = handlers["document.uploaded"]
    handlers["document.uploaded"] = lambda ev: (calls.append(ev.id), real(ev))  # type: ignore[func-returns-value]
    assert Worker(svc.queue, handlers).drain(timeout_s=60) == 1
    assert calls == []  # recognised as already processed: not handled again
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["extractions"] == 1
    assert c["outbox_types"] == {"document.uploaded": 1, "extraction.completed": 1}
    assert c["outbox"] == {"done": 1, "pending": 1}  # extraction.completed waits for the (absent) index worker
    with svc.uow_factory() as uow:
        assert uow.documents.get_any_org(doc_id).status.value == "ready"
