"""Least-privilege table grants for each component's database user (applied by the migrate job, as the owner).

Cloud SQL gives a new IAM database user no privileges at all
(https://cloud.google.com/sql/docs/postgres/add-manage-iam-users: "When an IAM user is added to a database instance,
that new user is granted no privileges on any databases"), so every table a component touches is listed here.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from sqlalchemy import text

log = logging.getLogger(__name__)

COMPONENTS = ("api", "dispatcher", "extract", "index", "sweep")

R, RW, RWD = ("SELECT",), ("SELECT", "INSERT", "UPDATE"), ("SELECT", "INSERT", "UPDATE", "DELETE")
LEGACY_TABLES = ("ledger_heads", "legacy_uploads", "users", "google_drive_credentials", "google_drive_files",
                 "google_drive_syncs", "google_drive_oauth_states", "legacy_documents", "blockchain_activities")

# table -> component -> privileges. The API serves every route (legacy ones included); the others get what
# their code paths do: the dispatcher completes signed uploads and relays, the extract job writes versions and
# relays, the index job reads documents and records generations, the sweep re-drives documents and relays.
PRIVILEGES: dict[str, dict[str, tuple[str, ...]]] = {
    "organisations": {"api": RWD, "dispatcher": R, "extract": R, "index": R, "sweep": R},
    "api_keys": {"api": RWD},
    "documents": {"api": RWD, "dispatcher": RWD, "extract": ("SELECT", "UPDATE"), "index": R,
                  "sweep": ("SELECT", "UPDATE")},
    "extractions": {"api": RWD, "dispatcher": R, "extract": RW, "index": R, "sweep": R},
    "outbox": {"api": RW, "dispatcher": RW, "extract": RW, "index": RW, "sweep": RW},
    "processed_events": {"api": RW, "dispatcher": RW, "extract": R, "index": RW, "sweep": R},
    "idempotency_keys": {"api": RWD},
    "index_generations": {"api": R, "index": RWD},
    # webhooks: the API manages endpoints; whoever ends a document ready or failed queues deliveries in the same
    # transaction; the sweep sends them (and records each attempt)
    "webhooks": {"api": RWD, "dispatcher": R, "extract": R, "sweep": R},
    "webhook_deliveries": {"api": RWD, "dispatcher": RW, "extract": RW, "sweep": RW},
    **{table: {"api": RWD} for table in LEGACY_TABLES},
}


def parse_members(raw: str) -> dict[str, str]:
    """`api=<db user>,extract=<db user>,…` → {component: user}; ValueError on an unknown component."""
    out: dict[str, str] = {}
    for part in (raw or "").split(","):
        component, sep, user = part.strip().partition("=")
        if not part.strip():
            continue
        if not sep or not user.strip() or component.strip() not in COMPONENTS:
            raise ValueError(f"ATLAS_DB_GRANTS entry {part.strip()!r} is not <component>=<user> with a component "
                             f"in {', '.join(COMPONENTS)}")
        out[component.strip()] = user.strip()
    return out


def _ident(conn: Any, name: str) -> str:
    return str(conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())


def apply_grants(engine: Any, members: Mapping[str, str]) -> dict[str, list[str]]:
    """Make each member's privileges exactly its component's row of PRIVILEGES (one transaction; Postgres only).

    Returns {user: [granted "PRIV ON table" …]}. Raises when the database has a table PRIVILEGES does not cover,
    so a new table cannot ship without a decision about who may touch it.
    """
    if engine.dialect.name != "postgresql":
        log.info("grants skipped: not Postgres", extra={"dialect": engine.dialect.name})
        return {}
    applied: dict[str, list[str]] = {}
    with engine.begin() as conn:
        tables = {r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))}
        unknown = sorted(tables - set(PRIVILEGES))
        if unknown:
            raise RuntimeError(f"tables without a grant decision in pipeline/migrations/grants.py: {unknown}")
        for component, user in sorted(members.items()):
            role = _ident(conn, user)
            conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
            conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}"))
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
            granted = []
            for table, by_component in sorted(PRIVILEGES.items()):
                privs = by_component.get(component)
                if not privs or table not in tables:
                    continue
                conn.execute(text(f"GRANT {', '.join(privs)} ON TABLE {_ident(conn, table)} TO {role}"))
                granted.append(f"{','.join(privs)} ON {table}")
            if any("INSERT" in p.get(component, ()) for p in PRIVILEGES.values()):
                conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
            applied[user] = granted
    log.info("database grants applied", extra={"users": len(applied)})
    return applied
