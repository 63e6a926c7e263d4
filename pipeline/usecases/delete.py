"""Delete: a document's rows, its bytes (unless something else still references them) and, via an event, its vectors."""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

ReleaseBlob = Callable[[str], object]  # drop the bytes under a key unless still referenced (see pipeline.blob_refs)


def delete_document(org_id: str, doc_id: str, *, uow_factory: Callable, release_blob: ReleaseBlob) -> None:
    """Remove one of the org's documents everywhere; NotFound for an unknown (or another org's) id.

    The rows go first (one transaction); the bytes are released afterwards, each under its blob lock, so a
    concurrent upload of the same bytes by any organisation either keeps them or puts them back.
    """
    from pipeline.domain.events import document_deleted

    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        uow.documents.delete(org_id, doc_id)
        uow.outbox.add(document_deleted(org_id, doc_id))
        uow.commit()
    for key in (doc.blob_key, doc.parsed_key):
        if key:
            release_blob(key)
    log.info("document deleted", extra={"document_id": doc_id, "tenant_id": org_id})
