"""Alembic environment: runs against the connection/URL handed over by pipeline.adapters.sql_engine.migrate."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pipeline.adapters.sql_tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    """Migrate through a provided connection (preferred) or the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
