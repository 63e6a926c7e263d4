"""Migrate job: bring the database schema to head, then grant each component's user its privileges.

Runs as the schema owner (the migrate identity), before a deploy and never at API start-up.
"""
from __future__ import annotations

import logging
from typing import Any

from jobs.task import JobSettings, load_job_settings

log = logging.getLogger(__name__)


def main(*, settings: JobSettings | None = None, connector: Any = None) -> int:
    """Run the Alembic migrations, then apply ATLAS_DB_GRANTS (Cloud SQL through the connector); exit 2 on bad grants."""
    from pipeline.adapters.cloudsql_engine import engine_for
    from pipeline.adapters.sql_engine import migrate
    from pipeline.logging_setup import configure_logging
    from pipeline.migrations.grants import apply_grants, parse_members

    settings = settings or load_job_settings()
    configure_logging(settings.log_level)
    try:
        members = parse_members(settings.db_grants)
    except ValueError as exc:
        log.error("bad ATLAS_DB_GRANTS", extra={"reason": str(exc)})
        return 2
    engine = engine_for(settings, connector=connector)
    try:
        migrate(engine)
        applied = apply_grants(engine, members)
    finally:
        engine.dispose()
    log.info("migrations and grants applied", extra={
        "database": engine.url.render_as_string(hide_password=True), "grantees": sorted(applied)})
    return 0
