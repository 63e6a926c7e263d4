"""Engine construction and Alembic migrations for SQLite, Postgres and Cloud SQL."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.pool import NullPool

from pipeline.adapters.sql_uow import install_sqlite_pragmas

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, *, pool_size: int = 5, creator: Any = None) -> Engine:
    """An engine for the URL; SQLite gets WAL pragmas, Postgres a pool sized for Cloud Run."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30, "check_same_thread": False})
        install_sqlite_pragmas(engine)
        return engine
    kwargs: dict[str, Any] = dict(pool_size=pool_size, max_overflow=2, pool_pre_ping=True, pool_recycle=1800,
                                  pool_timeout=30)
    if creator is not None:
        kwargs["creator"] = creator
    return create_engine(url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    """Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (idempotent; every head, so parallel migration branches both apply)."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # a batch-mode table rebuild drops the old table: with foreign keys on, that fires ON DELETE CASCADE on
            # every row referencing it. The pragma only works outside a transaction, hence on the raw connection.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows with dangling references: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    log.info("database migrated", extra={"revision": revision})


def is_migrated(engine: Engine) -> bool:
    """Whether the schema exists (used by readiness)."""
    return inspect(engine).has_table("documents")
