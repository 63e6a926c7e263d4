"""Extract job: parse and extract this task's share of the given documents (Cloud Run job, or locally)."""
from __future__ import annotations

import logging
import sys
from typing import Any, Sequence

from jobs.task import GracefulStop, JobSettings, JobTerminated, document_ids, load_job_settings, shard
from pipeline.domain.errors import AtlasError, TransientError
from pipeline.domain.model import DocumentStatus

log = logging.getLogger(__name__)

EXIT_OK, EXIT_RETRY, EXIT_TERMINATED = 0, 1, 143


def relay_if_cloud(svc: Any) -> None:
    """Publish the events this process wrote (cloud runtime); a failure leaves them for the next relay pass."""
    if svc.settings.runtime != "gcp":
        return  # embedded: the local worker reads the outbox itself
    from pipeline.relay import relay_outbox, relay_queue

    try:
        relay_outbox(relay_queue(svc.engine), svc.bus)
    except Exception:
        log.exception("outbox relay failed; events stay pending for the next pass")


def extract_documents(ids: Sequence[str], *, svc: Any, settings: JobSettings, stop: GracefulStop) -> int:
    """Process each id (idempotent per document + hash + extractor version); returns the exit code."""
    from pipeline.usecases.extract import fail_document, process_document, set_progress

    retry = False
    for doc_id in ids:
        if stop.requested:
            log.warning("stopping before the next document", extra={"document_id": doc_id})
            return EXIT_TERMINATED
        ctx = {"document_id": doc_id, "execution": settings.execution, "attempt": settings.task_attempt}
        try:
            with stop.document():
                extraction = process_document(doc_id, uow_factory=svc.uow_factory, blobs=svc.blobs,
                                              parse=svc.parse, extractor=svc.extractor, classify=svc.classify,
                                              created_by=f"job:{settings.execution or 'local'}")
        except JobTerminated:
            set_progress(doc_id, "released", "the job was stopped; the document will be retried",
                         uow_factory=svc.uow_factory, status=DocumentStatus.QUEUED)
            log.warning("document released on SIGTERM", extra=ctx)
            return EXIT_TERMINATED
        except Exception as exc:  # the task boundary: report, then retry or end the document failed
            log.exception("document failed in the job", extra=ctx)
            permanent = isinstance(exc, AtlasError) and not isinstance(exc, TransientError)
            if permanent or settings.final_attempt:
                fail_document(doc_id, "processing_failed", f"processing failed: {type(exc).__name__}",
                              uow_factory=svc.uow_factory)
            else:
                retry = True
            continue
        log.info("document done", extra={**ctx, "version": extraction.version if extraction else None})
    relay_if_cloud(svc)
    return EXIT_RETRY if retry else EXIT_OK


def main(argv: Sequence[str] | None = None, *, settings: JobSettings | None = None, svc: Any = None) -> int:
    """Entry point: ids from argv or ATLAS_DOCUMENT_IDS, sharded by CLOUD_RUN_TASK_INDEX/COUNT."""
    from pipeline.logging_setup import adopt_trace, configure_logging

    settings = settings or load_job_settings()
    configure_logging(settings.log_level)
    adopt_trace(settings.trace)
    from pipeline.tracing import setup_tracing

    setup_tracing(settings, service_name="atlas-extract")
    ids = document_ids(sys.argv[1:] if argv is None else argv, settings)
    mine = shard(ids, settings.task_index, settings.task_count)
    log.info("extract task starting", extra={"execution": settings.execution, "task_index": settings.task_index,
                                             "task_count": settings.task_count, "documents": len(mine)})
    if not mine:
        return EXIT_OK
    if svc is None:
        from pipeline.bootstrap import build

        svc = build(settings)
    stop = GracefulStop()
    with stop.installed():
        return extract_documents(mine, svc=svc, settings=settings, stop=stop)
