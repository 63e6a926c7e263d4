"""0003_users_per_org keeps every existing user and the rows that reference them (no cascade on the rebuild)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, insert, select, text

from pipeline.adapters.sql_engine import make_engine, migrate
from pipeline.legacy import records
from pipeline.legacy import tables as lt


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    from support.postgres import fresh_database

    with fresh_database("atlas_users_mig") as pg:
        yield pg


def test_upgrade_from_0002_keeps_users_registrations_and_drive_rows(url: str) -> None:
    engine = make_engine(url)
    migrate(engine, revision="0002")
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (id, name, created_at) VALUES ('o1', 'user:alice', :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO users (id, org_id, email, name, created_at) "
                          "VALUES ('alice', 'o1', 'a@x.com', 'A', :t)"), {"t": now})
        conn.execute(text(
            "INSERT INTO legacy_documents (id, org_id, user_id, title, file_path, sharing_type, asset_type, status, "
            "ownership_type, license_fee, revenue_generated, shared_emails, extracted_data, risk_flags, created_at, "
            "updated_at) VALUES ('d1', 'o1', 'alice', 't', '', 'private', 'office', 'active', 'owned', 0, 0, '[]', "
            "'{}', '[]', 1, 1)"))
        conn.execute(insert(lt.drive_syncs).values(user_id="alice", sync_type="manual", status="completed",
                                                   files_processed=0, files_failed=0, started_at=now))
    migrate(engine)
    with engine.connect() as conn:
        user = records.get_user(conn, None, "alice")
        assert user is not None and user["key"] == "alice" and user["email"] == "a@x.com"
        reg = records.get_registration(conn, "d1")
        assert reg is not None and reg["user_id"] == "alice"
        assert conn.execute(select(func.count()).select_from(lt.drive_syncs)).scalar_one() == 1
    with engine.begin() as conn:  # emails are now unique per organisation only
        conn.execute(text("INSERT INTO organisations (id, name, created_at) VALUES ('o2', 'firm', :t)"), {"t": now})
        records.ensure_user(conn, "alice", email="a@x.com", org_id="o2")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lt.users)).scalar_one() == 2
    engine.dispose()
