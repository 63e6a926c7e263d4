"""Dispatcher: a functions-framework CloudEvent function turning Pub/Sub messages into Cloud Run job executions.

Returning acknowledges the message; raising makes Pub/Sub redeliver it (and dead-letter it after N attempts).
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import logging
from dataclasses import dataclass
from typing import Any, Callable

import functions_framework

from pipeline.adapters.pubsub_bus import DEAD_LETTER_SUFFIX, decode_event
from pipeline.domain.errors import AtlasError, NotFound, PermanentError, TransientError
from pipeline.domain.events import (DOCUMENT_DELETED, DOCUMENT_UPLOADED, EXTRACTION_COMPLETED, INDEX_UPDATED,
                                    Event)

log = logging.getLogger(__name__)

DEAD_LETTER_ATTR = "CloudPubSubDeadLetterSourceDeliveryCount"
STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"


class Malformed(ValueError):
    """A message no retry can fix: logged and acknowledged."""


@dataclass(frozen=True)
class Dispatch:
    """What the dispatcher needs: where jobs start, dedup records, and the upload-completion use case."""

    run_job: Callable[[str, list[str]], str]  # (job name, args) -> execution name
    queue: Any  # processed-event records (SqlEventQueue)
    extract_job: str
    index_job: str
    complete_staged_upload: Callable[[str], None]  # object name -> None
    fail_document: Callable[[str, str], None]  # (document id, reason) -> None
    relay: Callable[[], None] = lambda: None


def message_of(envelope: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The data and attributes of a Pub/Sub CloudEvent payload ({"message": {...}, "subscription": ...})."""
    msg = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(msg, dict):
        raise Malformed("envelope has no message")
    try:
        data = base64.b64decode(msg.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Malformed("message data is not base64") from exc
    attrs = msg.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise Malformed("message attributes are not a map")
    return data, {str(k): str(v) for k, v in attrs.items()}


def handle_event(event: Event, deps: Dispatch, *, dead_letter: bool = False,
                 deliveries: str | None = None) -> str | None:
    """Act on one Atlas event once; returns the execution started, if any. Raises TransientError to retry."""
    doc_id = str(event.payload.get("document_id") or "")
    ctx = {"event_id": event.id, "event_type": event.type, "tenant_id": event.org_id, "document_id": doc_id}
    if dead_letter:
        if event.type == DOCUMENT_UPLOADED and doc_id:
            tries = f"{deliveries} delivery attempts" if deliveries and deliveries.isdigit() else "repeated attempts"
            deps.fail_document(doc_id, f"processing could not be started after {tries}; see docs/runbook.md")
        log.error("event reached the dead-letter topic", extra=ctx)
        return None
    consumer = f"dispatcher:{event.type}"
    if deps.queue.was_processed(consumer, event.id):
        log.info("duplicate delivery ignored", extra=ctx)
        return None
    if event.type == DOCUMENT_UPLOADED:
        job, args = deps.extract_job, [doc_id]
    elif event.type in (EXTRACTION_COMPLETED, DOCUMENT_DELETED):
        action = "delete" if event.type == DOCUMENT_DELETED else "index"
        job, args = deps.index_job, [f"{action}:{event.org_id}:{doc_id}"]
    else:  # index.updated: readers pick new generations up themselves
        log.info("nothing to dispatch", extra=ctx)
        deps.queue.mark_processed(consumer, event.id)
        return None
    if not doc_id:
        raise Malformed(f"{event.type} without a document_id")
    try:
        execution = deps.run_job(job, args)
    except PermanentError as exc:
        if event.type == DOCUMENT_UPLOADED:  # never leave the document queued forever
            deps.fail_document(doc_id, f"processing could not be started: {exc.message[:200]}")
        raise
    deps.queue.mark_processed(consumer, event.id)
    log.info("job dispatched", extra={**ctx, "job": job, "execution": execution})
    return execution


def handle_cloud_event(ce_type: str, source: str, data: Any, deps: Dispatch) -> str | None:
    """Route one CloudEvent: storage finalize, an Atlas event, or a dead-lettered one. Raises to nack."""
    if ce_type == STORAGE_FINALIZED:
        name = (data or {}).get("name", "") if isinstance(data, dict) else ""
        return _object_finalized(str(name), deps)
    payload, attrs = message_of(data)
    from pipeline.adapters.pubsub_bus import TRACE_ATTR
    from pipeline.logging_setup import adopt_trace

    adopt_trace(attrs.get(TRACE_ATTR))
    if attrs.get("eventType") == "OBJECT_FINALIZE":  # a bucket notification delivered through Pub/Sub
        return _object_finalized(attrs.get("objectId", ""), deps)
    try:
        event = decode_event(payload, attrs)
    except ValueError as exc:
        raise Malformed(str(exc)) from exc
    dead = DEAD_LETTER_ATTR in attrs or source.endswith(f"-{DEAD_LETTER_SUFFIX}")
    return handle_event(event, deps, dead_letter=dead, deliveries=attrs.get(DEAD_LETTER_ATTR))


def _object_finalized(name: str, deps: Dispatch) -> None:
    from pipeline.adapters.gcs_blobstore import is_staging_key

    if not is_staging_key(name):
        log.info("object is not a staged upload; ignored", extra={"object": name[:200]})
        return None
    deps.complete_staged_upload(name)
    deps.relay()
    return None


def dispatch_outcome(fn: Callable[[], Any]) -> str:
    """Run fn with the ack contract: 'ack' on success or permanent failure; raises on retryable failure."""
    try:
        fn()
    except (Malformed, NotFound) as exc:
        log.error("message dropped: cannot be processed", extra={"reason": str(exc)[:300]})
        return "ack"
    except TransientError:
        log.warning("retryable failure; message will be redelivered")
        raise
    except AtlasError as exc:  # permanent: bad input or state; a retry cannot help
        log.error("message dropped: permanent failure", extra={"reason": exc.message[:300], "code": exc.code})
        return "ack"
    return "ack"


@functools.lru_cache(maxsize=1)
def _deps() -> Dispatch:
    """Built on the first message of an instance, never at import."""
    from jobs.wiring import dispatch_deps

    return dispatch_deps()


@functions_framework.cloud_event
def dispatch(cloud_event: Any) -> None:
    """Pub/Sub (or storage) CloudEvent entry point."""
    deps = _deps()
    # a fresh context per message: the trace a message brings must not outlive it on this worker thread
    contextvars.copy_context().run(dispatch_outcome, lambda: handle_cloud_event(
        cloud_event["type"], cloud_event["source"], cloud_event.data, deps))
