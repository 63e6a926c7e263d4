"""Wiring of the search side into the embedded worker: index events are applied in batches by one writer."""
from __future__ import annotations

import functools
import logging
from typing import Callable

from pipeline.bootstrap import Services
from pipeline.domain.events import DOCUMENT_DELETED, EXTRACTION_COMPLETED, Event
from pipeline.usecases.extract import load_parsed

log = logging.getLogger(__name__)

INDEX_BATCH = 32


class BatchHandler:
    """A handler that takes several events of its types at once (one index generation per batch)."""

    def __init__(self, fn: Callable[[list[Event]], None], batch_size: int) -> None:
        self.fn = fn
        self.batch_size = batch_size

    def __call__(self, events: list[Event]) -> None:
        self.fn(events)


def index_handlers(svc: Services) -> dict[str, Callable]:
    """extraction.completed and document.deleted → index_documents, batched (the embedded single writer)."""
    from pipeline.adapters.chroma_search import build_embedder, build_writer
    from pipeline.usecases.index import index_documents

    def apply(events: list[Event]) -> None:
        index_documents(events, uow_factory=svc.uow_factory,
                        load_parsed=functools.partial(load_parsed, blobs=svc.blobs, parse=svc.parse),
                        embedder=svc.lazy("embedder", lambda: build_embedder(svc.settings)),
                        index_writer=svc.lazy("index_writer", lambda: build_writer(svc.settings)))

    handler = BatchHandler(apply, INDEX_BATCH)
    return {EXTRACTION_COMPLETED: handler, DOCUMENT_DELETED: handler}
