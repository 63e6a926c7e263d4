"""Migrate job: bring the database schema to head (run before a deploy, never at API start-up)."""
from __future__ import annotations

import logging
from typing import Any

from pipeline.settings import Settings, load_settings

log = logging.getLogger(__name__)


def main(*, settings: Settings | None = None, connector: Any = None) -> int:
    """Run the Alembic migrations against the configured database (Cloud SQL through the connector)."""
    from pipeline.adapters.cloudsql_engine import engine_for
    from pipeline.adapters.sql_engine import migrate
    from pipeline.logging_setup import configure_logging

    settings = settings or load_settings()
    configure_logging(settings.log_level)
    engine = engine_for(settings, connector=connector)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    log.info("migrations applied", extra={"database": engine.url.render_as_string(hide_password=True)})
    return 0
