"""Shared blobs: bytes are stored once per content and referenced by documents and legacy upload tokens.

A blob may be deleted only when nothing references it, and a new reference must not be committed to bytes a
concurrent delete is removing. Both sides therefore run under one lock per blob key: the writer makes sure the
bytes exist and commits its reference while holding it; the deleter checks references and removes the bytes
while holding it. Postgres: a transaction-scoped advisory lock (per key, across instances). SQLite: every
transaction begins IMMEDIATE, which already serialises all writers of the file.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from pipeline.adapters.cloudsql_lock import lock_key
from pipeline.ports import BlobStore

log = logging.getLogger(__name__)


def hold_blob(conn: Connection, key: str) -> None:
    """Take this transaction's exclusive lock on a blob key (released at commit or rollback)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("blob:" + key)})


def blob_in_use(conn: Connection, key: str) -> bool:
    """Whether any document (bytes or parsed text) or legacy upload token of any organisation references key."""
    from pipeline.adapters import sql_tables as t
    from pipeline.legacy import tables as lt

    docs = conn.execute(select(func.count()).select_from(t.documents).where(
        (t.documents.c.blob_key == key) | (t.documents.c.parsed_key == key))).scalar_one()
    if int(docs) > 0:
        return True
    uploads = conn.execute(select(func.count()).select_from(lt.uploads).where(lt.uploads.c.blob_key == key))
    return int(uploads.scalar_one()) > 0


def ensure_blob(uow: Any, blobs: BlobStore, key: str, data: bytes, content_type: str) -> None:
    """Inside the unit of work that will reference key: lock it and make sure the bytes are (still) there."""
    uow.hold_blob(key)
    if not blobs.exists(key):  # a concurrent delete removed them after our first put
        stored = blobs.put(data, content_type=content_type)
        if stored != key:
            raise AssertionError(f"blob store returned {stored!r} for {key!r}")


def release_blob(uow_factory: Callable[[], Any], blobs: BlobStore, key: str) -> bool:
    """Delete the bytes under key when nothing references them any more; True when deleted."""
    with uow_factory() as uow:
        hold_blob(uow.conn, key)
        if blob_in_use(uow.conn, key):
            return False
        blobs.delete(key)  # under the lock: a writer of the same bytes waits and then puts them back
        uow.commit()
    log.info("blob deleted", extra={"blob_key": key})
    return True


def blob_releaser(uow_factory: Callable[[], Any], blobs: BlobStore) -> Callable[[str], bool]:
    """release_blob bound to one database and blob store (what delete_document takes)."""
    return lambda key: release_blob(uow_factory, blobs, key)
