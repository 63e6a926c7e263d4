"""Waiting for the pipeline: the legacy routes answer synchronously, so they watch the document until it is done."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator

from pipeline.domain.errors import PermanentError, TransientError
from pipeline.domain.model import DocumentStatus, Extraction


class ExtractionFailed(PermanentError):
    """The pipeline ended the document failed."""

    code = "extraction_failed"


class ExtractionTimedOut(TransientError):
    """The pipeline did not finish within the wait budget."""

    code = "extraction_timeout"


class WaitInterrupted(TransientError):
    """The server is shutting down; the document goes on in the pipeline and the client may retry."""

    code = "shutting_down"


def watch(org_id: str, doc_id: str, *, uow_factory: Callable, timeout_s: float,
          poll_s: float = 0.2, stop: threading.Event | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ("progress", entry) for every progress step (from the numbered history), then ("done", Extraction).

    Raises ExtractionFailed when the document fails, ExtractionTimedOut after timeout_s, WaitInterrupted once
    `stop` is set.
    """
    stop = stop or threading.Event()
    deadline = time.monotonic() + timeout_s
    last_seq = 0
    last: dict[str, Any] | None = None
    while True:
        with uow_factory() as uow:
            doc = uow.documents.get(org_id, doc_id)
            ext = uow.extractions.latest(org_id, doc_id) if doc.status == DocumentStatus.READY else None
        progress = dict(doc.progress or {})
        history = progress.get("history") or []
        if history:
            for entry in history:
                if entry.get("seq", 0) > last_seq:
                    last_seq = entry["seq"]
                    yield "progress", dict(entry)
        else:  # a document written before progress history existed
            current = {k: v for k, v in progress.items() if k != "at"}
            if current != last:
                last = current
                yield "progress", progress
        if ext is not None:
            yield "done", ext
            return
        if doc.status == DocumentStatus.FAILED:
            raise ExtractionFailed(doc.error_message or "processing failed", code=doc.error_code or None)
        if time.monotonic() >= deadline:
            raise ExtractionTimedOut(f"no extraction after {timeout_s:g} s (stage: {progress.get('stage')})")
        if stop.wait(poll_s):
            raise WaitInterrupted("the server is shutting down; the document is still being processed, retry")


def wait_for_extraction(org_id: str, doc_id: str, *, uow_factory: Callable, timeout_s: float,
                        poll_s: float = 0.2, stop: threading.Event | None = None) -> Extraction:
    """The document's latest extraction once it is ready (bounded by timeout_s)."""
    for kind, value in watch(org_id, doc_id, uow_factory=uow_factory, timeout_s=timeout_s, poll_s=poll_s,
                             stop=stop):
        if kind == "done":
            return value
    raise AssertionError("watch ends with done or raises")
