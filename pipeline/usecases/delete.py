"""Delete: a document's rows, its bytes (unless another document shares them) and, via an event, its vectors."""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import func, select

from pipeline.domain.events import document_deleted
from pipeline.ports import BlobStore

log = logging.getLogger(__name__)


def delete_document(org_id: str, doc_id: str, *, uow_factory: Callable, blobs: BlobStore,
                    blob_still_used: Callable[[str], bool]) -> None:
    """Remove one of the org's documents everywhere; NotFound for an unknown (or another org's) id."""
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        uow.documents.delete(org_id, doc_id)
        uow.outbox.add(document_deleted(org_id, doc_id))
        uow.commit()
    for key in (doc.blob_key, doc.parsed_key):
        if key and not blob_still_used(key):
            blobs.delete(key)
    log.info("document deleted", extra={"document_id": doc_id, "tenant_id": org_id})


def blob_reference_checker(engine) -> Callable[[str], bool]:  # type: ignore[no-untyped-def]
    """A check that a blob key is still referenced by some document (blobs are shared by content)."""
    from pipeline.adapters import sql_tables as t

    def used(key: str) -> bool:
        with engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(t.documents).where(
                (t.documents.c.blob_key == key) | (t.documents.c.parsed_key == key))).scalar_one()
        return int(n) > 0

    return used
