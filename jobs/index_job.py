"""Index job: the single writer applies index changes under an exclusive lease, draining all pending work.

Events start one execution each; bursts coalesce: an execution whose documents are already indexed, or that
finds the lease taken, exits 0 at once, and the lease holder re-reads the pending work (from the database)
after every publish until none is left. Without arguments it only drains (e.g. a scheduled sweep)."""
from __future__ import annotations

import functools
import logging
import sys
from typing import Any, Sequence

from jobs.task import JobSettings, load_job_settings
from pipeline.domain.errors import TransientError

log = logging.getLogger(__name__)

REINDEX = "reindex"  # the one non-target argument: rebuild everything (operators, after a restore)


def parse_targets(args: Sequence[str]) -> list[Any]:
    """`index:<org>:<doc>` / `delete:<org>:<doc>` arguments → index targets (ValueError when malformed)."""
    from pipeline.usecases.index import IndexTarget

    out = []
    for arg in args:
        action, _, rest = arg.partition(":")
        org_id, _, doc_id = rest.partition(":")
        if action not in ("index", "delete") or not org_id or not doc_id:
            raise ValueError(f"index job argument {arg!r} is not index:<org>:<doc> or delete:<org>:<doc>")
        out.append(IndexTarget(org_id, doc_id, delete=action == "delete"))
    return out


def index_writer(svc: Any) -> Any:
    """The Chroma generation writer under the database's lease (advisory lock on Postgres, else a file lock).

    It never waits for the lease: a busy lease means another writer, which picks this work up (WriterBusy)."""
    from pipeline.adapters.chroma_index import ChromaIndexWriter
    from pipeline.adapters.cloudsql_lock import writer_lock

    return ChromaIndexWriter(svc.settings.chroma_path, lock=writer_lock(svc.engine, svc.settings.chroma_path),
                             lock_timeout_s=0)


def run_index(args: Sequence[str], *, svc: Any, writer: Any = None, embedder: Any = None) -> list[str]:
    """Apply the changes named by args and every other pending index change; returns the generations published.

    Exits early (no generation) when the published index already reflects args, or when another writer holds
    the lease (it re-reads pending work after each publish, so it will do ours)."""
    from pipeline.adapters.chroma_search import build_embedder
    from pipeline.adapters.sql_index_state import document_state
    from pipeline.domain.errors import WriterBusy
    from pipeline.usecases.extract import load_parsed
    from pipeline.usecases.index import drain_index, is_done

    targets = parse_targets(args)
    writer = writer or index_writer(svc)
    state, indexed = document_state(svc.engine), writer.indexed()
    if targets and all(is_done(t, state, indexed) for t in targets):
        log.info("index already up to date for these documents", extra={"targets": len(targets)})
        return []
    try:
        return drain_index(
            targets, document_state=lambda: document_state(svc.engine), uow_factory=svc.uow_factory,
            load_parsed=functools.partial(load_parsed, blobs=svc.blobs, parse=svc.parse),
            embedder=lambda: embedder or svc.lazy("embedder", lambda: build_embedder(svc.settings)),
            index_writer=writer)
    except WriterBusy:
        log.info("another index writer is active and will pick this work up")
        return []


def run_reindex(svc: Any) -> str | None:
    """Rebuild the whole index as a fresh generation under the writer's lease (`reindex` argument)."""
    from sqlalchemy import select

    from pipeline.adapters import sql_tables as t
    from pipeline.adapters.chroma_search import build_embedder
    from pipeline.usecases.extract import load_parsed
    from pipeline.usecases.index import reindex_all

    with svc.engine.connect() as conn:
        ids = [(r.org_id, r.id) for r in conn.execute(select(t.documents.c.org_id, t.documents.c.id))]

    def documents() -> Any:
        for org_id, doc_id in ids:
            with svc.uow_factory() as uow:
                yield uow.documents.get(org_id, doc_id)

    return reindex_all(documents(), uow_factory=svc.uow_factory,
                       load_parsed=functools.partial(load_parsed, blobs=svc.blobs, parse=svc.parse),
                       embedder=svc.lazy("embedder", lambda: build_embedder(svc.settings)),
                       index_writer=index_writer(svc))


def main(argv: Sequence[str] | None = None, *, settings: JobSettings | None = None, svc: Any = None) -> int:
    """Entry point (targets, or `reindex`): exit 0 when published or nothing to do, 1 to retry, 2 on bad arguments."""
    from pipeline.logging_setup import adopt_trace, configure_logging

    settings = settings or load_job_settings()
    configure_logging(settings.log_level)
    adopt_trace(settings.trace)
    from pipeline.tracing import setup_tracing

    setup_tracing(settings, service_name="atlas-index")
    args = list(sys.argv[1:] if argv is None else argv)
    rebuild = args == [REINDEX]
    try:
        if not rebuild:
            parse_targets(args)
    except ValueError as exc:
        log.error("bad index job arguments", extra={"reason": str(exc)})
        return 2
    if svc is None:
        from pipeline.bootstrap import build

        svc = build(settings)
    try:
        if rebuild:
            generation = run_reindex(svc)
            generations = [generation] if generation else []
        else:
            generations = run_index(args, svc=svc)
    except TransientError:
        log.exception("index job will be retried", extra={"execution": settings.execution})
        return 1
    log.info("index job done", extra={"generations": generations, "execution": settings.execution,
                                      "targets": len(args)})
    return 0
