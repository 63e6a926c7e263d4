"""The index writer's exclusive lease: a Postgres advisory lock held on one dedicated connection."""
from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from sqlalchemy import text

from pipeline.domain.errors import TransientError

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresAdvisoryLock:
    """WriterLock over pg_try_advisory_lock: released when the holder closes its connection or dies."""

    def __init__(self, engine: Any, name: str = "atlas-index-writer", *, poll_s: float = 0.5) -> None:
        self.engine = engine
        self.key = lock_key(name)
        self.poll_s = poll_s
        self._conn: Any = None

    def try_acquire(self) -> bool:
        """Take the lease if free; False when another writer holds it."""
        if self._conn is not None:
            return True
        conn = self.engine.connect()
        try:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar_one())
            conn.commit()  # session-level lock: survives the transaction, not the connection
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            return False
        self._conn = conn
        return True

    def acquire(self, timeout_s: float | None = None) -> None:
        """Block until held; TransientError after timeout_s."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.try_acquire():
            if deadline is not None and time.monotonic() >= deadline:
                raise TransientError("index writer lease is held by another writer")
            time.sleep(self.poll_s)
        log.info("index writer lease taken", extra={"lock_key": self.key})

    def release(self) -> None:
        """Give the lease back (closing the connection would too)."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.commit()
        finally:
            self._conn.close()
            self._conn = None


def writer_lock(engine: Any, lock_dir: Any) -> Any:
    """The lease for the engine's database: advisory lock on Postgres, a file lock beside the index otherwise."""
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    from pathlib import Path

    from pipeline.adapters.chroma_index import FileWriterLock

    Path(lock_dir).mkdir(parents=True, exist_ok=True)
    return FileWriterLock(Path(lock_dir) / "writer.lock")
