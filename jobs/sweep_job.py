"""Sweep job (Cloud Scheduler's safety net): finish lost uploads, re-drive stuck documents, relay the outbox.

A document is stuck when its event was lost or its job died without a trace: queued (not awaiting an upload) for
longer than ATLAS_SWEEP_QUEUED_AFTER_S, or processing for longer than ATLAS_SWEEP_PROCESSING_AFTER_S. It gets a
fresh document.uploaded event (extraction is idempotent per document, content and extractor version); after
ATLAS_SWEEP_MAX_REDRIVES re-drives it ends failed with error_code `stuck`. Signed-upload reservations whose
notification was lost are completed, or failed with `upload_expired` when the bytes never arrived.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from jobs.task import JobSettings, load_job_settings
from pipeline.domain.errors import AtlasError, NotFound, TransientError

log = logging.getLogger(__name__)

BATCH = 200  # documents looked at per category and pass
REQUEUED = "requeued"  # the progress stage a re-drive records
WEBHOOK_ROUNDS = 5  # at most 5 x BATCH webhook deliveries per pass


@dataclass(frozen=True)
class SweepResult:
    """What one pass did."""

    completed_uploads: int
    expired_uploads: int
    rejected_uploads: int
    redriven: int
    failed_stuck: int
    published: int
    deferred: int
    webhooks_sent: int = 0


def _candidates(engine: Any, statuses: tuple[str, ...], before: datetime) -> list[tuple[str, str]]:
    """(org id, document id) of documents in these statuses not touched since `before`, oldest first."""
    from sqlalchemy import select

    from pipeline.adapters import sql_tables as t

    q = (select(t.documents.c.org_id, t.documents.c.id)
         .where(t.documents.c.status.in_(statuses), t.documents.c.updated_at < before)
         .order_by(t.documents.c.updated_at).limit(BATCH))
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(q)]


def redrive_count(progress: dict) -> int:
    """How often the sweep re-queued a document (its progress history keeps every stage, bounded)."""
    return sum(1 for entry in progress.get("history", []) if entry.get("stage") == REQUEUED)


def _redrive(doc_id: str, org_id: str, *, svc: Any, settings: JobSettings) -> str:
    """A fresh document.uploaded for a stuck document, or its end as failed; returns 'redriven' / 'failed' / ''."""
    from pipeline.domain.events import document_uploaded
    from pipeline.domain.model import DocumentStatus
    from pipeline.signed_uploads import is_awaiting_upload
    from pipeline.usecases.extract import advance_progress, fail_document

    with svc.uow_factory() as uow:
        try:
            doc = uow.documents.get(org_id, doc_id)
        except NotFound:
            return ""
        if doc.status not in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING) or is_awaiting_upload(doc):
            return ""
        redrives = redrive_count(doc.progress)
        if redrives >= settings.sweep_max_redrives:
            outcome = "failed"
        else:
            doc.status = DocumentStatus.QUEUED
            doc.progress = advance_progress(doc.progress, REQUEUED, "re-queued by the sweep after no progress")
            uow.documents.update(doc)
            uow.outbox.add(document_uploaded(doc.org_id, doc.id, doc.content_hash))
            uow.commit()
            outcome = "redriven"
    if outcome == "failed":
        fail_document(doc_id, "stuck", f"no progress after {redrives} automatic retries",
                      uow_factory=svc.uow_factory)
    log.warning("stuck document " + outcome, extra={"document_id": doc_id, "tenant_id": org_id,
                                                   "redrives": redrives})
    return outcome


def _finish_upload(doc_id: str, *, svc: Any) -> str:
    """Complete a reservation whose finalize notification was lost; 'completed', 'expired', 'rejected' or ''."""
    from pipeline.domain.errors import Conflict
    from pipeline.signed_uploads import complete_upload
    from pipeline.usecases.extract import fail_document

    try:
        _, queued = complete_upload(doc_id, org_id=None, uow_factory=svc.uow_factory, blobs=svc.blobs,
                                    check_upload=svc.check_upload, max_bytes=svc.settings.max_upload_bytes)
    except Conflict as exc:
        if exc.code != "upload_missing":
            raise
        fail_document(doc_id, "upload_expired", "the signed upload was never completed",
                      uow_factory=svc.uow_factory)
        return "expired"
    except NotFound:
        return ""
    except AtlasError as exc:  # bad bytes: complete_upload already ended the document failed
        if isinstance(exc, TransientError):
            raise
        return "rejected"
    return "completed" if queued else ""


def sweep(svc: Any, settings: JobSettings, *, now: datetime | None = None) -> SweepResult:
    """One pass: lost uploads, stuck documents, then the outbox (so re-drives are published at once)."""
    from pipeline.relay import relay_outbox, relay_queue
    from pipeline.signed_uploads import AWAITING_UPLOAD
    from pipeline.usecases.webhooks import deliver_due, http_post

    now = now or datetime.now(timezone.utc)
    counts = {"completed": 0, "expired": 0, "rejected": 0, "redriven": 0, "failed": 0}
    for org_id, doc_id in _candidates(svc.engine, ("queued",),
                                      now - timedelta(seconds=settings.sweep_upload_after_s)):
        with svc.uow_factory() as uow:
            try:
                stage = uow.documents.get(org_id, doc_id).progress.get("stage")
            except NotFound:  # deleted since the query
                continue
        if stage == AWAITING_UPLOAD:
            outcome = _finish_upload(doc_id, svc=svc)
            if outcome:
                counts[outcome] += 1
    for statuses, after in ((("queued",), settings.sweep_queued_after_s),
                            (("processing",), settings.sweep_processing_after_s)):
        for org_id, doc_id in _candidates(svc.engine, statuses, now - timedelta(seconds=after)):
            outcome = _redrive(doc_id, org_id, svc=svc, settings=settings)
            if outcome:
                counts[outcome] += 1
    relayed = relay_outbox(relay_queue(svc.engine), svc.bus, max_events=10_000)
    sent = 0
    for _ in range(WEBHOOK_ROUNDS):  # the cloud runtime's webhook sender: what is due at each scheduled pass
        got = deliver_due(uow_factory=svc.uow_factory, post=http_post(), limit=BATCH,
                          allow_private=settings.webhooks_may_call_private)
        sent += got
        if got < BATCH:
            break
    result = SweepResult(completed_uploads=counts["completed"], expired_uploads=counts["expired"],
                         rejected_uploads=counts["rejected"], redriven=counts["redriven"], failed_stuck=counts["failed"],
                         published=relayed.published, deferred=relayed.deferred, webhooks_sent=sent)
    log.info("sweep done", extra=result.__dict__)
    return result


def main(argv: Any = None, *, settings: JobSettings | None = None, svc: Any = None) -> int:
    """Entry point (no arguments): exit 0 when everything pending was published, 1 to be retried."""
    from pipeline.logging_setup import adopt_trace, configure_logging

    settings = settings or load_job_settings()
    configure_logging(settings.log_level)
    adopt_trace(settings.trace)
    if argv:
        log.error("the sweep takes no arguments", extra={"args": list(argv)[:5]})
        return 2
    if svc is None:
        from pipeline.bootstrap import build

        svc = build(settings)
    result = sweep(svc, settings)
    return 1 if result.deferred else 0
