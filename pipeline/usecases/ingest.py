"""Ingest: accept an upload, store its bytes, record the document and queue it — once per content per org."""
from __future__ import annotations

import hashlib
import logging
import unicodedata
from typing import Callable

from pipeline.blob_refs import ensure_blob
from pipeline.domain.errors import Conflict, InvalidDocument
from pipeline.domain.events import document_uploaded
from pipeline.domain.model import Document, DocumentStatus, new_id
from pipeline.ports import BlobStore
from pipeline.usecases.extract import advance_progress

log = logging.getLogger(__name__)

CheckUpload = Callable[[bytes, str], str]  # (data, filename) -> media type; raises InvalidDocument


def safe_display_name(filename: str | None) -> str:
    """The user's file name as metadata only: control/bidi characters removed, length bounded."""
    name = (filename or "upload").replace("\x00", "")
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    name = name.replace("/", "_").replace("\\", "_").strip() or "upload"
    return name[:255]


def ingest(org_id: str, filename: str | None, data: bytes, *, uow_factory: Callable, blobs: BlobStore,
           check_upload: CheckUpload) -> tuple[Document, bool]:
    """Store an upload and queue it; returns (document, created). Same bytes again return the existing one."""
    display = safe_display_name(filename)
    media_type = check_upload(data, display)
    content_hash = hashlib.sha256(data).hexdigest()
    with uow_factory() as uow:
        existing = uow.documents.find_by_hash(org_id, content_hash)
        if existing:
            return existing, False
    key = blobs.put(data, content_type=media_type)
    doc = Document(id=new_id(), org_id=org_id, filename=display, content_hash=content_hash,
                   size_bytes=len(data), media_type=media_type, blob_key=key, status=DocumentStatus.QUEUED,
                   progress=advance_progress({}, "queued", "waiting for a worker"))
    with uow_factory() as uow:
        ensure_blob(uow, blobs, key, data, media_type)  # a concurrent delete of the same bytes may have won
        try:
            uow.documents.add(doc)
        except Conflict:
            # a concurrent upload of the same bytes won the race
            uow.rollback()
            existing = uow.documents.find_by_hash(org_id, content_hash)
            if existing:
                return existing, False
            raise
        uow.outbox.add(document_uploaded(org_id, doc.id, content_hash))
        uow.commit()
    log.info("document ingested", extra={"document_id": doc.id, "tenant_id": org_id, "bytes": len(data)})
    return doc, True


def check_upload_name(filename: str | None) -> None:
    """Refuse upload names that cannot be shown honestly: missing, blank, or carrying NUL/control characters."""
    if not filename or not filename.strip():
        raise InvalidDocument("the upload needs a file name with its extension", code="invalid_filename")
    if any(unicodedata.category(ch) == "Cc" for ch in filename):
        raise InvalidDocument("the file name contains control characters such as NUL", code="invalid_filename")
