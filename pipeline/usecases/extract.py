"""Extract: parse a queued document, extract its cited terms and save them as a new version."""
from __future__ import annotations

import logging
import time
from typing import Callable

from pipeline.domain.errors import AtlasError, Conflict, InvalidDocument, NotFound
from pipeline.domain.events import extraction_completed
from pipeline.domain.model import Document, DocumentStatus, Extraction, new_id, utcnow
from pipeline.domain.webhooks import DOCUMENT_FAILED, DOCUMENT_READY
from pipeline.parse.model import ParsedDocument, parsed_from_bytes, parsed_to_bytes
from pipeline.ports import BlobStore, Extractor

log = logging.getLogger(__name__)

ParseFn = Callable[..., ParsedDocument]  # parse(data, progress=...) -> ParsedDocument


PROGRESS_HISTORY = 50


def advance_progress(progress: dict, stage: str, message: str) -> dict:
    """The next progress state: current stage plus a bounded, numbered history so no watcher misses a stage."""
    seq = int(progress.get("seq", 0)) + 1
    entry = {"seq": seq, "stage": stage, "message": message, "at": utcnow().isoformat()}
    history = [*progress.get("history", []), entry][-PROGRESS_HISTORY:]
    return {**entry, "history": history}


def set_progress(doc_id: str, stage: str, message: str, *, uow_factory: Callable,
                 status: DocumentStatus | None = None) -> None:
    """Record where a document is (its own short transaction, so pollers and SSE see it at once)."""
    with uow_factory() as uow:
        try:
            doc = uow.documents.get_any_org(doc_id)
        except NotFound:
            return
        doc.progress = advance_progress(doc.progress, stage, message)
        if status is not None:
            doc.status = status
        uow.documents.update(doc)
        uow.commit()


def fail_document(doc_id: str, code: str, message: str, *, uow_factory: Callable) -> None:
    """End a document as failed with a machine code and a human sentence."""
    with uow_factory() as uow:
        try:
            doc = uow.documents.get_any_org(doc_id)
        except NotFound:
            return
        doc.status = DocumentStatus.FAILED
        doc.error_code = code
        doc.error_message = message
        doc.progress = advance_progress(doc.progress, "failed", message)
        uow.documents.update(doc)
        uow.webhooks.enqueue(doc.org_id, DOCUMENT_FAILED, {"document_id": doc.id, "filename": doc.filename,
                                                           "status": "failed", "error_code": code,
                                                           "error_message": message})
        uow.commit()
    log.warning("document failed", extra={"event": "document.failed", "document_id": doc_id, "code": code})


def load_parsed(doc: Document, *, blobs: BlobStore, parse: ParseFn,
                progress: Callable[[str, str], None] | None = None) -> ParsedDocument:
    """The parsed form of a document: from the stored parse when there is one, else parsed now."""
    if doc.parsed_key and blobs.exists(doc.parsed_key):
        return parsed_from_bytes(blobs.get(doc.parsed_key))
    return parse(blobs.get(doc.blob_key), progress=progress)


def process_document(doc_id: str, *, uow_factory: Callable, blobs: BlobStore, parse: ParseFn,
                     extractor: Extractor, classify: Callable[[ParsedDocument], tuple[bool, float]] | None = None,
                     created_by: str = "system") -> Extraction | None:
    """Parse + extract one document; idempotent per (document, content hash, extractor version).

    Returns the extraction, or None when the document ended failed (bad input) or no longer exists.
    Raises TransientError for failures worth a retry.
    """
    with uow_factory() as uow:
        try:
            doc = uow.documents.get_any_org(doc_id)
        except NotFound:
            log.info("document gone before processing", extra={"document_id": doc_id})
            return None
        done = uow.extractions.find(doc.org_id, doc.id, doc.content_hash, extractor.version)
        if done is not None:
            if doc.status != DocumentStatus.READY:
                doc.status = DocumentStatus.READY
                doc.error_code = doc.error_message = None
                uow.documents.update(doc)
                uow.commit()
    if done is not None:
        _link_amendments(doc.org_id, doc_id, uow_factory=uow_factory, blobs=blobs)  # a retry re-links
        return done

    started = time.monotonic()
    progress = lambda stage, msg: set_progress(doc_id, stage, msg, uow_factory=uow_factory)  # noqa: E731
    set_progress(doc_id, "parsing", "reading the document", uow_factory=uow_factory,
                 status=DocumentStatus.PROCESSING)
    try:
        parsed = parse(blobs.get(doc.blob_key), progress=progress)
    except InvalidDocument as exc:
        fail_document(doc_id, exc.code, exc.message, uow_factory=uow_factory)
        return None
    parsed_key = blobs.put(parsed_to_bytes(parsed), content_type="application/gzip")

    warnings: list[dict] = [{"code": "parse", "message": w} for w in parsed.warnings]
    if classify is not None:
        is_lease, score = classify(parsed)
        if not is_lease:
            warnings.append({"code": "not_a_lease",
                             "message": f"this document does not read like a lease (score {score:.2f})"})

    set_progress(doc_id, "extracting", f"extracting terms from {parsed.page_count} pages", uow_factory=uow_factory)
    try:
        result = extractor.extract(parsed)
    except AtlasError:
        raise
    except Exception as exc:  # an extractor bug must not leave the document stuck in processing
        log.exception("extractor crashed", extra={"document_id": doc_id})
        fail_document(doc_id, "extraction_error", f"extraction failed: {type(exc).__name__}",
                      uow_factory=uow_factory)
        return None
    warnings.extend(w.to_dict() for w in result.warnings)

    with uow_factory() as uow:
        doc = uow.documents.get_any_org(doc_id)
        existing = uow.extractions.find(doc.org_id, doc.id, doc.content_hash, extractor.version)
        if existing is not None:  # a concurrent worker finished first
            _settle_ready(uow, doc)
            return existing
        version = uow.extractions.next_version(doc.id)
        extraction = Extraction(id=new_id(), document_id=doc.id, org_id=doc.org_id, version=version,
                                result=result, extractor_version=extractor.version,
                                content_hash=doc.content_hash, created_by=created_by)
        try:
            uow.extractions.add(extraction)
        except Conflict:
            uow.rollback()
            _settle_ready(uow, uow.documents.get_any_org(doc_id))
            return uow.extractions.latest(doc.org_id, doc.id)
        doc.status = DocumentStatus.READY
        doc.error_code = doc.error_message = None
        doc.page_count = parsed.page_count
        doc.parsed_key = parsed_key
        doc.warnings = warnings
        doc.progress = advance_progress(doc.progress, "extracted", f"version {version} saved")
        uow.documents.update(doc)
        uow.outbox.add(extraction_completed(doc.org_id, doc.id, version))
        uow.webhooks.enqueue(doc.org_id, DOCUMENT_READY, {"document_id": doc.id, "filename": doc.filename,
                                                          "status": "ready", "version": version,
                                                          "kind": result.kind})
        uow.commit()
    log.info("extraction saved", extra={"document_id": doc_id, "version": version,
                                        "seconds": round(time.monotonic() - started, 3)})
    _link_amendments(doc.org_id, doc_id, uow_factory=uow_factory, blobs=blobs)
    return extraction


def _link_amendments(org_id: str, doc_id: str, *, uow_factory: Callable, blobs: BlobStore) -> None:
    """Link an amendment to its lease (or a new lease to waiting amendments); a failure here keeps the extraction."""
    from pipeline.usecases.consolidate import link_after_extraction

    try:
        link_after_extraction(org_id, doc_id, uow_factory=uow_factory, blobs=blobs)
    except AtlasError as exc:
        log.warning("amendment linking skipped", extra={"document_id": doc_id, "error": str(exc)})


def _settle_ready(uow, doc: Document) -> None:  # type: ignore[no-untyped-def]
    """A racing run saved the extraction first; this run's 'processing' progress must not be left behind."""
    if doc.status == DocumentStatus.READY:
        return
    doc.status = DocumentStatus.READY
    doc.error_code = doc.error_message = None
    doc.progress = advance_progress(doc.progress, "extracted", "saved by a concurrent run")
    uow.documents.update(doc)
    uow.commit()


def save_correction(org_id: str, doc_id: str, fields: dict, *, uow_factory: Callable, user: str) -> Extraction:
    """A human correction: a new version holding the corrected fields, recorded with who and when."""
    from pipeline.domain.model import FieldStatus, FieldValue

    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        latest = uow.extractions.latest(org_id, doc_id)
        if latest is None:
            raise NotFound(f"document {doc_id} has no extraction yet")
        result = latest.result
        for name, value in fields.items():
            prev = result.field(name)
            result.fields[name] = FieldValue(value=value, raw=prev.raw, confidence=1.0,
                                             status=FieldStatus.FOUND, citations=prev.citations)
        version = uow.extractions.next_version(doc_id)
        ext = Extraction(id=new_id(), document_id=doc_id, org_id=org_id, version=version, result=result,
                         extractor_version=f"human:{latest.extractor_version}", content_hash=doc.content_hash,
                         created_by=user)
        uow.extractions.add(ext)
        uow.outbox.add(extraction_completed(org_id, doc_id, version))
        uow.commit()
        return ext
