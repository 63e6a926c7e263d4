"""Large uploads straight to Cloud Storage: reserve a document and a signed URL, then verify and queue it."""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any, Callable

from pipeline.blob_refs import ensure_blob
from pipeline.domain.errors import Conflict, InvalidDocument, ValidationFailed
from pipeline.domain.events import document_uploaded
from pipeline.domain.model import Document, DocumentStatus, new_id, utcnow
from pipeline.usecases.extract import fail_document
from pipeline.usecases.ingest import CheckUpload, safe_display_name

log = logging.getLogger(__name__)

AWAITING_UPLOAD = "awaiting_upload"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")


def is_awaiting_upload(doc: Document) -> bool:
    """A reserved document whose bytes have not been verified yet."""
    return doc.status == DocumentStatus.QUEUED and doc.progress.get("stage") == AWAITING_UPLOAD


def start_upload(org_id: str, filename: str | None, content_type: str, size: int, sha256: str, *,
                 uow_factory: Callable, blobs: Any, max_bytes: int) -> tuple[Document, Any]:
    """Reserve a document (queued, awaiting upload; no event yet) and a signed URL for its staging object."""
    from pipeline.adapters.gcs_blobstore import staging_key

    sha256 = (sha256 or "").lower()
    if not _SHA256.match(sha256):
        raise ValidationFailed("sha256 must be the 64-character hex SHA-256 of the file")
    if not isinstance(size, int) or size <= 0:
        raise ValidationFailed("size must be a positive integer (bytes)")
    if size > max_bytes:
        raise InvalidDocument(f"upload exceeds {max_bytes} bytes", code="too_large")
    content_type = (content_type or "").split(";")[0].strip().lower()
    if not _MEDIA.match(content_type):
        raise ValidationFailed("content_type must be a media type such as application/pdf")
    doc_id = new_id()
    key = staging_key(doc_id)
    doc = Document(id=doc_id, org_id=org_id, filename=safe_display_name(filename),
                   content_hash=f"pending-{doc_id}", size_bytes=size, media_type=content_type, blob_key=key,
                   status=DocumentStatus.QUEUED,
                   progress={"stage": AWAITING_UPLOAD, "message": "waiting for the upload",
                             "expected_sha256": sha256, "at": utcnow().isoformat()})
    signed = blobs.signed_upload_url(key, content_type, size)
    with uow_factory() as uow:
        uow.documents.add(doc)
        uow.commit()
    log.info("upload reserved", extra={"document_id": doc_id, "tenant_id": org_id, "bytes": size})
    return doc, signed


def complete_upload(doc_id: str, *, org_id: str | None, uow_factory: Callable, blobs: Any,
                    check_upload: CheckUpload, max_bytes: int) -> tuple[Document, bool]:
    """Verify the staged bytes (size, SHA-256, format), store them by content and queue the document.

    Returns (document, queued_now). Idempotent: a completed document comes back unchanged. When the org already
    holds the same bytes, the reservation is dropped and the existing document is returned.
    """
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id) if org_id else uow.documents.get_any_org(doc_id)
    if not is_awaiting_upload(doc):
        return doc, False
    staged = doc.blob_key
    if not blobs.exists(staged):
        raise Conflict("the upload has not arrived yet", code="upload_missing")
    expected = doc.progress.get("expected_sha256")
    try:
        data = blobs.read_bounded(staged, min(max_bytes, doc.size_bytes))
        if hashlib.sha256(data).hexdigest() != expected:
            raise InvalidDocument("the uploaded bytes do not match the declared sha256", code="checksum_mismatch")
        media_type = check_upload(data, doc.filename)
    except (InvalidDocument, ValidationFailed) as exc:
        fail_document(doc.id, getattr(exc, "code", "invalid_document"), exc.message, uow_factory=uow_factory)
        blobs.delete(staged)
        raise
    key = blobs.put(data, content_type=media_type)
    with uow_factory() as uow:
        doc = uow.documents.get_any_org(doc_id)
        if not is_awaiting_upload(doc):  # a concurrent completion (API call vs. notification) won
            return doc, False
        existing = uow.documents.find_by_hash(doc.org_id, expected)
        if existing is not None:
            uow.documents.delete(doc.org_id, doc.id)
            uow.commit()
            blobs.delete(staged)
            return existing, False
        ensure_blob(uow, blobs, key, data, media_type)
        doc.content_hash = expected
        doc.blob_key = key
        doc.media_type = media_type
        doc.size_bytes = len(data)
        doc.progress = {"stage": "queued", "message": "waiting for a worker", "at": utcnow().isoformat()}
        uow.documents.update(doc)
        uow.outbox.add(document_uploaded(doc.org_id, doc.id, expected))
        uow.commit()
    blobs.delete(staged)
    log.info("upload verified and queued", extra={"document_id": doc.id, "tenant_id": doc.org_id,
                                                   "bytes": len(data)})
    return doc, True
