"""Injected faults: a killed worker, a dropped database connection, a failing blob store, a poison message.

After each, the counts of documents, extraction versions and outbox states are exactly as expected.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from reliability_support import SHARED, counts
from pipeline.adapters import sql_tables as t
from pipeline.adapters.sql_uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from pipeline.bootstrap import Services, build
from pipeline.domain.errors import TransientError
from pipeline.domain.events import DOCUMENT_UPLOADED, Event
from pipeline.handlers import build_handlers, on_dead_letter
from pipeline.settings import load_settings
from pipeline.usecases.ingest import ingest
from pipeline.worker import Worker

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\nBase Rent: $4,000.00 per month.\n")


def _lease(i: int) -> bytes:
    return LEASE.replace(b"Nimbus Inc.", f"Nimbus {i} Inc.".encode())


@pytest.fixture()
def svc(tmp_path: Path) -> Services:
    return build(load_settings(ATLAS_DATA_DIR=str(tmp_path / "data")), migrate=True)


def _org(svc: Services) -> str:
    with svc.uow_factory() as uow:
        org = uow.keys.create_org("acme")
        uow.commit()
    return org.id


def _upload(svc: Services, org: str, data: bytes = LEASE) -> str:
    doc, created = ingest(org, "lease.txt", data, uow_factory=svc.uow_factory, blobs=svc.blobs,
                          check_upload=svc.check_upload)
    assert created
    return doc.id


def _status(svc: Services, doc_id: str) -> tuple[str, str | None, str | None]:
    with svc.uow_factory() as uow:
        d = uow.documents.get_any_org(doc_id)
    return d.status.value, d.error_code, d.error_message


def _run_until(worker: Worker, done, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done():
        if not worker.run_once():
            time.sleep(0.02)
    assert done(), "condition not reached in time"


def _worker(svc: Services) -> Worker:
    return Worker(svc.queue, build_handlers(svc, with_index=False), on_dead=on_dead_letter(svc), base_backoff_s=0.01)


def _outbox_rows(svc: Services) -> list:
    with svc.engine.connect() as conn:
        return conn.execute(select(t.outbox).order_by(t.outbox.c.seq)).all()


# --- kill -9 mid-extraction -------------------------------------------------------------------------------

def _spawn_worker(data: Path) -> subprocess.Popen:
    env = {**os.environ, "ATLAS_DATA_DIR": str(data), "ATLAS_RUNTIME": "embedded", "LOG_LEVEL": "WARNING"}
    atlas = Path(sys.executable).with_name("atlas")
    return subprocess.Popen([str(atlas), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def test_worker_killed_mid_extraction_recovers_with_one_version(svc: Services):
    scan = SHARED / "devset" / "docs" / "D023.pdf"
    if not scan.exists():
        pytest.skip("../shared/devset/docs/D023.pdf (slow OCR scan) missing")
    org = _org(svc)
    doc_id, _ = ingest(org, "D023.pdf", scan.read_bytes(), uow_factory=svc.uow_factory, blobs=svc.blobs,
                       check_upload=svc.check_upload)
    doc_id = doc_id.id
    proc = _spawn_worker(svc.settings.data_dir)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _status(svc, doc_id)[0] != "processing":
            time.sleep(0.05)
        assert _status(svc, doc_id)[0] == "processing", "the worker never started the document"
        time.sleep(0.5)  # inside parsing/OCR
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and any OCR children it started
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    c = counts(svc.engine)
    assert _status(svc, doc_id)[0] == "processing" and c["extractions"] == 0, "killed too late to test anything"
    assert c["outbox"] == {"claimed": 1}
    proc = _spawn_worker(svc.settings.data_dir)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and _status(svc, doc_id)[0] not in ("ready", "failed"):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert _status(svc, doc_id)[0] == "ready", _status(svc, doc_id)
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["extractions"] == 1
    assert c["outbox_types"] == {"document.uploaded": 1, "extraction.completed": 1}
    uploaded = [r for r in _outbox_rows(svc) if r.type == DOCUMENT_UPLOADED][0]
    assert uploaded.status == "done"


# --- the database connection drops mid-transaction ----------------------------------------------------------

class DroppingUnitOfWork(SqlUnitOfWork):
    """Loses its connection at commit while `budget` lasts, when the transaction wrote what `when` looks for."""

    budget = {"n": 0, "when": "documents"}

    def __enter__(self) -> "DroppingUnitOfWork":
        super().__enter__()
        self.wrote: set[str] = set()
        for repo_name in ("documents", "extractions"):
            repo = getattr(self, repo_name)
            real_add = repo.add

            def add(obj, _real=real_add, _name=repo_name):  # type: ignore[no-untyped-def]
                _real(obj)
                self.wrote.add(_name)

            repo.add = add
        return self

    def commit(self) -> None:
        if self.budget["n"] > 0 and self.budget["when"] in self.wrote:
            self.budget["n"] -= 1
            assert self.conn is not None
            self.conn.invalidate()  # the socket is gone; the transaction dies with it
            raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))
        super().commit()


class DroppingFactory(SqlUnitOfWorkFactory):
    def __call__(self) -> DroppingUnitOfWork:
        return DroppingUnitOfWork(self.engine)


def test_connection_dropped_while_ingesting_leaves_nothing_half_written(svc: Services):
    org = _org(svc)
    flaky = dataclasses.replace(svc, uow_factory=DroppingFactory(svc.engine))
    DroppingUnitOfWork.budget.update(n=1, when="documents")
    with pytest.raises(OperationalError):
        ingest(org, "lease.txt", LEASE, uow_factory=flaky.uow_factory, blobs=svc.blobs, check_upload=svc.check_upload)
    c = counts(svc.engine)
    assert c["documents"] == 0 and c["outbox"] == {}  # no document without its event, no orphan event
    doc, created = ingest(org, "lease.txt", LEASE, uow_factory=flaky.uow_factory, blobs=svc.blobs,
                          check_upload=svc.check_upload)  # the client's retry
    assert created
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["outbox"] == {"pending": 1}


def test_connection_dropped_while_saving_extraction_is_retried(svc: Services):
    org = _org(svc)
    doc_id = _upload(svc, org)
    flaky = dataclasses.replace(svc, uow_factory=DroppingFactory(svc.engine))
    DroppingUnitOfWork.budget.update(n=1, when="extractions")
    worker = _worker(flaky)
    _run_until(worker, lambda: _status(svc, doc_id)[0] == "ready")
    assert DroppingUnitOfWork.budget["n"] == 0  # the fault did fire
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["extractions"] == 1
    assert c["outbox_types"] == {"document.uploaded": 1, "extraction.completed": 1}  # no orphan from the lost tx
    uploaded = [r for r in _outbox_rows(svc) if r.type == DOCUMENT_UPLOADED][0]
    assert uploaded.status == "done" and uploaded.attempts == 2 and "OperationalError" in (uploaded.last_error or "")


# --- the blob store fails ----------------------------------------------------------------------------------

class FlakyBlobs:
    """Raises TransientError on reads of the given key `failures` times (-1: always), then delegates."""

    def __init__(self, inner, failures: int) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.failures = failures
        self.calls = 0

    def get(self, key: str) -> bytes:
        self.calls += 1
        if self.failures != 0:
            self.failures -= 1 if self.failures > 0 else 0
            raise TransientError("blob store unavailable (503)")
        return self.inner.get(key)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_blob_store_failing_twice_is_retried_with_backoff(svc: Services):
    org = _org(svc)
    doc_id = _upload(svc, org)
    flaky = FlakyBlobs(svc.blobs, failures=2)
    worker = _worker(dataclasses.replace(svc, blobs=flaky))
    _run_until(worker, lambda: _status(svc, doc_id)[0] == "ready")
    assert flaky.calls == 3
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["extractions"] == 1
    uploaded = [r for r in _outbox_rows(svc) if r.type == DOCUMENT_UPLOADED][0]
    assert uploaded.status == "done" and uploaded.attempts == 3


def test_blob_store_failing_for_good_ends_failed_and_dead(svc: Services):
    org = _org(svc)
    doc_id = _upload(svc, org)
    flaky = FlakyBlobs(svc.blobs, failures=-1)
    worker = _worker(dataclasses.replace(svc, blobs=flaky))
    _run_until(worker, lambda: _status(svc, doc_id)[0] == "failed")
    status, code, message = _status(svc, doc_id)
    assert code == "processing_failed" and "blob store unavailable" in (message or "")
    assert flaky.calls == svc.queue.max_attempts == 5
    c = counts(svc.engine)
    assert c["documents"] == 1 and c["extractions"] == 0 and c["outbox"] == {"dead": 1}


# --- a poison message --------------------------------------------------------------------------------------

def test_poison_message_does_not_block_others(svc: Services):
    org = _org(svc)
    with svc.uow_factory() as uow:  # queued first: its handler raises KeyError on every attempt
        uow.outbox.add(Event(DOCUMENT_UPLOADED, org, {"unexpected": "payload"}))
        uow.commit()
    docs = [_upload(svc, org, _lease(i)) for i in range(3)]
    worker = _worker(svc)
    _run_until(worker, lambda: all(_status(svc, d)[0] == "ready" for d in docs)
               and counts(svc.engine)["outbox"].get("dead") == 1)
    c = counts(svc.engine)
    assert c["documents"] == 3 and c["extractions"] == 3
    assert c["outbox_types"] == {"document.uploaded": 4, "extraction.completed": 3}
    rows = _outbox_rows(svc)
    poison = rows[0]
    assert poison.status == "dead" and poison.attempts == 5 and "KeyError" in poison.last_error
    assert [r.status for r in rows[1:] if r.type == DOCUMENT_UPLOADED] == ["done"] * 3
