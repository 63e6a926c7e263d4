"""A throw-away database on the local Postgres server (127.0.0.1:5432) for tests."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest

PG_SERVER_URL = "postgresql+pg8000://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG_SERVER_URL}/test"


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create an empty database named `<prefix>_<random>`, yield its URL, drop it afterwards; skip if no server."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # a developer machine may have no Postgres
        admin.dispose()
        pytest.skip(f"Postgres not reachable at 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{PG_SERVER_URL}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
