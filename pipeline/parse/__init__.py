"""Document parsing: bytes in, a ParsedDocument (pages, offsets, boxes, metadata) out, or InvalidDocument."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.classify import classify_document, classify_lease
from pipeline.parse.formats import check_upload, parser_for, sniff
from pipeline.parse.language import guess_language
from pipeline.parse.limits import Deadline, ParseLimits, timeout_error
from pipeline.parse.model import Box, Page, ParsedDocument

__all__ = ["Box", "Page", "ParsedDocument", "ParseLimits", "InvalidDocument", "check_upload", "classify_lease",
           "parse_document", "sniff"]

log = logging.getLogger(__name__)

NOT_A_LEASE_WARNING = "This document does not look like a lease; extracted terms may be missing or wrong."
# Grace after the deadline for the worker thread to notice it and unwind before the caller gives up on it.
_JOIN_GRACE_S = 2.0
_DONE = object()


def _no_progress(stage: str, detail: str) -> None:
    """Default progress callback: log at debug level."""
    log.debug("parse progress %s: %s", stage, detail)


def parse_document(data: bytes, *, limits: ParseLimits | None = None,
                   progress: Callable[[str, str], None] | None = None) -> ParsedDocument:
    """Parse document bytes into pages; every bad input ends as InvalidDocument with a machine code.

    The work runs in a daemon thread so a call stuck inside a C library cannot hold the caller past the
    deadline. `progress(stage, detail)` is still called on the caller's thread, and an exception it raises
    (say, the job was cancelled) stops the parse and propagates.
    """
    limits = limits or ParseLimits()
    progress = progress or _no_progress
    deadline = Deadline(limits.timeout_s)
    events: queue.SimpleQueue = queue.SimpleQueue()
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["doc"] = _parse(data, limits, deadline, lambda stage, detail: events.put((stage, detail)))
        except BaseException as exc:  # handed to the calling thread, which re-raises it
            outcome["error"] = exc
        finally:
            events.put(_DONE)

    worker = threading.Thread(target=work, name="parse-document", daemon=True)
    worker.start()
    give_up = time.monotonic() + limits.timeout_s + _JOIN_GRACE_S
    try:
        while True:
            wait_s = give_up - time.monotonic()
            if wait_s <= 0:
                log.warning("parse still running after %.0fs; abandoning it", limits.timeout_s)
                raise timeout_error(limits.timeout_s)
            try:
                event = events.get(timeout=wait_s)
            except queue.Empty:
                continue
            if event is _DONE:
                break
            progress(*event)
    except BaseException:
        deadline.cancel()
        raise
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["doc"]  # type: ignore[return-value]


def _parse(data: bytes, limits: ParseLimits, deadline: Deadline,
           progress: Callable[[str, str], None]) -> ParsedDocument:
    started = time.monotonic()
    limits.check_size(data)
    media_type = sniff(data)
    progress("parse", f"reading {media_type}")
    try:
        doc = parser_for(media_type)(data, limits, deadline, progress)
    except RecursionError as exc:
        raise InvalidDocument("The document is nested too deeply to read.", code="corrupt_file") from exc
    except MemoryError as exc:
        raise InvalidDocument("The document needs more memory to read than is allowed.",
                              code="decompression_bomb") from exc
    deadline.check()
    _finish(doc, limits)
    doc.metadata["parse_seconds"] = round(time.monotonic() - started, 3)
    return doc


def _finish(doc: ParsedDocument, limits: ParseLimits) -> None:
    """Checks and metadata common to every format."""
    total = sum(len(p.text) for p in doc.pages)
    if total > limits.max_text_chars:
        raise InvalidDocument(f"The document holds more than {limits.max_text_chars:,} characters of text.",
                              code="text_too_large")
    if not any(p.text.strip() for p in doc.pages):
        skipped = doc.metadata.get("ocr_skipped_pages")
        hint = " (its scanned pages were not run through text recognition)" if skipped else ""
        raise InvalidDocument(f"No text was found in the document{hint}.", code="no_text")
    text = doc.text
    verdict = classify_document(doc)
    is_lease, score = verdict.is_lease, verdict.score
    doc.metadata.setdefault("page_count", doc.page_count)
    doc.metadata.setdefault("producer", None)
    doc.metadata.setdefault("ocr_used", any(p.ocr for p in doc.pages))
    doc.metadata["language"] = guess_language(text)
    doc.metadata["chars"] = total
    doc.metadata["is_lease"] = is_lease
    doc.metadata["lease_score"] = score
    doc.metadata["kind"] = verdict.kind
    if not is_lease:
        doc.warnings.append(NOT_A_LEASE_WARNING)
