"""Event handlers of the embedded worker: each event type → one use case."""
from __future__ import annotations

import logging
from typing import Callable

from pipeline.bootstrap import Services
from pipeline.domain.events import DOCUMENT_UPLOADED, Event
from pipeline.usecases.extract import fail_document, process_document

log = logging.getLogger(__name__)


def build_handlers(svc: Services, *, with_index: bool = True) -> dict[str, Callable[[Event], None]]:
    """Map event types to handlers over the given services."""

    def on_uploaded(ev: Event) -> None:
        process_document(ev.payload["document_id"], uow_factory=svc.uow_factory, blobs=svc.blobs,
                         parse=svc.parse, extractor=svc.extractor, classify=svc.classify)

    handlers: dict[str, Callable[[Event], None]] = {DOCUMENT_UPLOADED: on_uploaded}
    if with_index:
        from pipeline.search_wiring import index_handlers

        handlers.update(index_handlers(svc))
    return handlers


def on_dead_letter(svc: Services) -> Callable[[Event, str], None]:
    """When an event is given up on, the document it concerns ends failed with the reason."""

    def dead(ev: Event, error: str) -> None:
        doc_id = ev.payload.get("document_id")
        if ev.type == DOCUMENT_UPLOADED and doc_id:
            fail_document(doc_id, "processing_failed", f"processing failed after retries: {error[:300]}",
                          uow_factory=svc.uow_factory)
        log.error("event dead-lettered", extra={"event_id": ev.id, "event_type": ev.type})

    return dead


