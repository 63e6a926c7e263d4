"""Job shells: sharding, SIGTERM release, retry vs. failed exit codes, the index writer's lease, migrations."""
from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import pytest

from jobs.extract_job import EXIT_OK, EXIT_RETRY, EXIT_TERMINATED, main as extract_main
from jobs.task import document_ids, load_job_settings, shard
from pipeline.domain.errors import TransientError
from support.postgres import fresh_database

DEVSET = Path(__file__).resolve().parents[3] / "shared" / "devset" / "docs"


def test_shards_are_disjoint_and_cover_every_document() -> None:
    ids = [f"d{i}" for i in range(7)]
    parts = [shard(ids, i, 3) for i in range(3)]
    assert sorted(sum(parts, [])) == ids
    assert parts[0] == ["d0", "d3", "d6"]
    with pytest.raises(ValueError):
        shard(ids, 3, 3)


def test_document_ids_come_from_args_or_the_environment_setting() -> None:
    s = load_job_settings(document_ids="b, a,,a")
    assert document_ids([], s) == ["a", "b"]
    assert document_ids(["z", "y", "z"], s) == ["y", "z"]


@pytest.fixture()
def svc_with_doc(tmp_path: Path):  # type: ignore[no-untyped-def]
    from pipeline.bootstrap import build
    from pipeline.settings import load_settings
    from pipeline.usecases.ingest import ingest

    lease = DEVSET / "D034.txt"
    if not lease.exists():
        pytest.skip(f"devset lease missing: {lease}")
    svc = build(load_settings(data_dir=tmp_path, runtime="embedded", database_url=None), migrate=True)
    with svc.uow_factory() as uow:
        org = uow.keys.create_org("jobs")
        uow.commit()
    doc, _ = ingest(org.id, lease.name, lease.read_bytes(), uow_factory=svc.uow_factory, blobs=svc.blobs,
                    check_upload=svc.check_upload)
    return svc, org.id, doc.id


def _doc(svc, org, doc_id):  # type: ignore[no-untyped-def]
    with svc.uow_factory() as uow:
        return uow.documents.get(org, doc_id), uow.extractions.versions(org, doc_id)


def test_sigterm_mid_document_releases_it_and_exits_for_retry(svc_with_doc) -> None:  # type: ignore[no-untyped-def]
    svc, org, doc_id = svc_with_doc
    real_parse = svc.parse

    def parse_then_sigterm(data, **kw):  # type: ignore[no-untyped-def]
        parsed = real_parse(data, **kw)
        os.kill(os.getpid(), signal.SIGTERM)  # Cloud Run stopping the task mid-document
        return parsed

    stopping = dataclasses.replace(svc, parse=parse_then_sigterm)
    code = extract_main([doc_id], settings=load_job_settings(), svc=stopping)
    assert code == EXIT_TERMINATED
    doc, versions = _doc(svc, org, doc_id)
    assert (doc.status.value, doc.progress["stage"], versions) == ("queued", "released", [])
    assert signal.getsignal(signal.SIGTERM) is not None  # handler restored
    assert extract_main([doc_id], settings=load_job_settings(), svc=svc) == EXIT_OK
    doc, versions = _doc(svc, org, doc_id)
    assert (doc.status.value, versions) == ("ready", [1])


def test_transient_failure_retries_until_the_final_attempt_then_fails_the_document(svc_with_doc) -> None:  # type: ignore[no-untyped-def]
    svc, org, doc_id = svc_with_doc

    def unavailable(data, **kw):  # type: ignore[no-untyped-def]
        raise TransientError("blob store unavailable")

    flaky = dataclasses.replace(svc, parse=unavailable)
    assert extract_main([doc_id], settings=load_job_settings(), svc=flaky) == EXIT_RETRY
    assert _doc(svc, org, doc_id)[0].status.value == "processing"  # retried by Cloud Run, not failed
    last = load_job_settings(CLOUD_RUN_TASK_ATTEMPT=2, ATLAS_JOB_MAX_ATTEMPTS=3)
    assert extract_main([doc_id], settings=last, svc=flaky) == EXIT_OK
    doc, _ = _doc(svc, org, doc_id)
    assert (doc.status.value, doc.error_code) == ("failed", "processing_failed")


def test_task_with_no_share_exits_cleanly() -> None:
    settings = load_job_settings(CLOUD_RUN_TASK_INDEX=1, CLOUD_RUN_TASK_COUNT=2)
    assert extract_main(["only-one"], settings=settings, svc=object()) == EXIT_OK


def test_index_writer_lease_is_exclusive_on_postgres(pg_database: str) -> None:
    from pipeline.adapters.cloudsql_lock import PostgresAdvisoryLock, writer_lock
    from pipeline.adapters.sql_engine import make_engine

    a_engine, b_engine = make_engine(pg_database, pool_size=1), make_engine(pg_database, pool_size=1)
    a, b = PostgresAdvisoryLock(a_engine), PostgresAdvisoryLock(b_engine, poll_s=0.05)
    assert isinstance(writer_lock(a_engine, "/unused"), PostgresAdvisoryLock)
    a.acquire(timeout_s=1)
    assert not b.try_acquire()
    with pytest.raises(TransientError):
        b.acquire(timeout_s=0.2)
    a.release()
    b.acquire(timeout_s=1)
    assert not a.try_acquire()
    b_engine.dispose()  # the holder's connection dies (a crashed job): the lease is freed by the server
    b._conn.invalidate()
    a.acquire(timeout_s=2)
    a.release()
    a_engine.dispose()


def test_file_lock_fallback_on_sqlite(tmp_path: Path) -> None:
    from pipeline.adapters.chroma_index import FileWriterLock
    from pipeline.adapters.cloudsql_lock import writer_lock
    from pipeline.adapters.sql_engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(writer_lock(engine, tmp_path / "chroma"), FileWriterLock)


def test_index_job_rejects_malformed_arguments() -> None:
    from jobs.index_job import main as index_main, parse_targets

    pytest.importorskip("pipeline.usecases.index", reason="the index use case is not in this checkout")
    assert index_main(["nonsense"], settings=load_job_settings(), svc=object()) == 2
    [t] = parse_targets(["delete:org:doc"])
    assert (t.org_id, t.document_id, t.delete) == ("org", "doc", True)


def test_migrate_job_brings_a_fresh_postgres_database_to_head(pg_database: str) -> None:
    from sqlalchemy import create_engine, inspect

    from jobs.migrate_job import main as migrate_main

    with fresh_database("atlas_migrate") as url:
        assert migrate_main(settings=load_job_settings(database_url=url)) == 0
        assert migrate_main(settings=load_job_settings(database_url=url)) == 0  # idempotent
        eng = create_engine(url)
        assert {"documents", "extractions", "outbox", "processed_events"} <= set(inspect(eng).get_table_names())
        eng.dispose()


def test_index_job_reindex_argument_rebuilds_and_nothing_else_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs.index_job as index_job

    pytest.importorskip("pipeline.usecases.index", reason="the index use case is not in this checkout")
    calls: list[str] = []
    monkeypatch.setattr(index_job, "run_reindex", lambda svc: calls.append("rebuild") or "gen-7")
    monkeypatch.setattr(index_job, "run_index", lambda args, svc: calls.append("targets") or "gen-8")
    assert index_job.main(["reindex"], settings=load_job_settings(), svc=object()) == 0
    assert index_job.main(["reindex", "index:o:d"], settings=load_job_settings(), svc=object()) == 2
    assert index_job.main(["index:o:d"], settings=load_job_settings(), svc=object()) == 0
    assert calls == ["rebuild", "targets"]
