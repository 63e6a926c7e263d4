"""The activity ledger: a SHA-256 chain per organisation that `atlas audit verify` checks."""
from __future__ import annotations

import hashlib
from typing import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from pipeline.adapters.sql_engine import make_engine, migrate
from pipeline.legacy import ledger, records, sharing
from pipeline.legacy import tables as lt
from support.postgres import fresh_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh Postgres database for this module; skipped with the reason when the server is absent."""
    with fresh_database("atlas_legacy") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    else:
        eng = make_engine(request.getfixturevalue("postgres_url"), pool_size=2)
        with eng.begin() as conn:  # module-scoped database: start each test from an empty schema
            from sqlalchemy import text

            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(eng)
    yield eng
    eng.dispose()


def test_migrations_match_the_table_definitions(engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipeline.adapters.sql_tables import metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def _register(engine, user_id: str, sharing_type: str = "private", emails=()):  # type: ignore[no-untyped-def]
    def work(conn):  # type: ignore[no-untyped-def]
        user = records.ensure_user(conn, user_id)
        return sharing.register_document(conn, org_id=user["org_id"], user_id=user_id, user_key=user["key"],
                                         title="lease.pdf", file_path="x", sharing_type=sharing_type,
                                         shared_emails=list(emails), license_fee=0.0, extracted_data={}, risk_flags=[], asset_type="office",
                                         source_document_id=None)
    return sharing.with_ledger_retry(engine, work)


def test_each_entry_hashes_the_previous_one(engine) -> None:
    doc = _register(engine, "alice", "external", ["a@x.com", "b@x.com"])
    with engine.connect() as conn:
        rows = records.list_activities(conn, doc["id"], newest_first=False)
    assert [r["block_number"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["prev_hash"] == ledger.GENESIS
    for prev, row in zip(rows, rows[1:]):
        assert row["prev_hash"] == prev["tx_hash"]
    expected = "0x" + hashlib.sha256((rows[1]["prev_hash"] + ledger.canonical_json(rows[1])).encode()).hexdigest()
    assert rows[1]["tx_hash"] == expected and len(expected) == 66


def test_chains_are_per_organisation(engine) -> None:
    _register(engine, "alice")
    doc_b = _register(engine, "bob")
    with engine.connect() as conn:
        rows = records.list_activities(conn, doc_b["id"], newest_first=False)
        assert rows[0]["block_number"] == 1 and rows[0]["prev_hash"] == ledger.GENESIS
        assert all(ledger.verify(conn, o).ok for o in ledger.ledger_orgs(conn))


@pytest.mark.parametrize("tamper", ["edit_details", "edit_hash", "delete_middle", "delete_last"])
def test_tampering_is_detected(engine, tamper: str) -> None:
    doc = _register(engine, "alice", "firm")
    _register(engine, "alice", "private")
    with engine.begin() as conn:
        rows = records.list_activities(conn, doc["id"], newest_first=False)
        org = rows[0]["org_id"]
        all_rows = conn.execute(select(lt.activities).where(lt.activities.c.org_id == org)
                                .order_by(lt.activities.c.block_number)).mappings().all()
        target = all_rows[1]
        if tamper == "edit_details":
            conn.execute(update(lt.activities).where(lt.activities.c.id == target["id"]).values(details="forged"))
        elif tamper == "edit_hash":
            conn.execute(update(lt.activities).where(lt.activities.c.id == target["id"]).values(tx_hash="0x" + "1" * 64))
        elif tamper == "delete_middle":
            conn.execute(delete(lt.activities).where(lt.activities.c.id == target["id"]))
        else:
            conn.execute(delete(lt.activities).where(lt.activities.c.id == all_rows[-1]["id"]))
    with engine.connect() as conn:
        res = ledger.verify(conn, org)
    assert not res.ok
    assert res.block_number == (len(all_rows) if tamper == "delete_last" else 2)


def test_audit_verify_cli_passes_then_fails_after_an_edit(engine, monkeypatch) -> None:
    from pipeline.legacy.cli import audit

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    doc = _register(engine, "alice", "firm")
    _register(engine, "bob")
    runner = CliRunner()
    ok = runner.invoke(audit, ["verify"])
    assert ok.exit_code == 0, ok.output
    assert "ok      user:alice: 3 entries" in ok.output
    with engine.begin() as conn:
        conn.execute(update(lt.activities).where(lt.activities.c.document_id == doc["id"],
                                                 lt.activities.c.block_number == 3).values(revenue_impact=99.0))
    bad = runner.invoke(audit, ["verify"])
    assert bad.exit_code == 1
    assert "BROKEN  user:alice: block 3" in bad.output and "modified" in bad.output
    only_bob = runner.invoke(audit, ["verify", "--org", "user:bob"])
    assert only_bob.exit_code == 0, only_bob.output


def test_concurrent_appends_keep_one_chain(engine) -> None:
    import threading

    doc = _register(engine, "alice")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(5):
                sharing.with_ledger_retry(engine, lambda conn: sharing.share(
                    conn, org_id=doc["org_id"], document_id=doc["id"], action="SHARE_WITH_FIRM",
                    activity_type="sharing", actor="alice", details="d", extra_data={}), attempts=50)
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with engine.connect() as conn:
        res = ledger.verify(conn, doc["org_id"])
    assert res.ok and res.entries == 2 + 20
