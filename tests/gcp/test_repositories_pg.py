"""The Cloud SQL path: the connector's creator against the real local Postgres, with an injected fake credential."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from pipeline.adapters.cloudsql_engine import (CLOUDSQL_URL, cloudsql_creator, connect_kwargs, engine_for,
                                               make_connector)
from pipeline.settings import load_settings


def _settings(**kw: Any):  # type: ignore[no-untyped-def]
    base = dict(runtime="gcp", instance_connection_name="atlas-test:europe-west1:atlas", postgres_user="postgres",
                postgres_password="unused-with-trust-auth", postgres_db="atlas", db_iam_auth=False, db_pool_size=2)
    base.update(kw)
    return load_settings(**base)


class LoopbackConnector:
    """Stands in for the connector's TLS tunnel: records the call and opens pg8000 to the local server."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.calls: list[tuple[str, str, dict]] = []

    def connect(self, instance: str, driver: str, **kwargs: Any) -> Any:
        import pg8000.dbapi

        self.calls.append((instance, driver, kwargs))
        return pg8000.dbapi.connect(user="postgres", host="127.0.0.1", port=5432, database=self.database)


def fake_credentials():  # type: ignore[no-untyped-def]
    """A credential that never talks to Google (DESIGN §6: the connector needs one)."""
    from google.auth import credentials

    class FakeCredentials(credentials.Credentials):
        def refresh(self, request: Any) -> None:
            self.token = "fake-token"

    return FakeCredentials()


def test_engine_through_the_connector_runs_migrations_and_repositories(pg_database: str) -> None:
    from pipeline.adapters.sql_engine import is_migrated, migrate
    from pipeline.adapters.sql_uow import SqlUnitOfWorkFactory

    dbname = pg_database.rsplit("/", 1)[1]
    connector = LoopbackConnector(dbname)
    engine = engine_for(_settings(), connector=connector)
    assert engine.url.render_as_string() == CLOUDSQL_URL
    assert engine.pool.size() == 2
    migrate(engine)
    assert is_migrated(engine)
    uow = SqlUnitOfWorkFactory(engine)
    with uow() as u:
        org = u.keys.create_org("cloudsql-org")
        u.commit()
    with uow() as u:
        assert u.keys.get_org_by_name("cloudsql-org").id == org.id
    instance, driver, kwargs = connector.calls[0]
    assert (instance, driver) == ("atlas-test:europe-west1:atlas", "pg8000")
    assert kwargs == {"user": "postgres", "db": "atlas", "enable_iam_auth": False,
                      "password": "unused-with-trust-auth"}
    engine.dispose()


def test_iam_auth_sends_no_password() -> None:
    s = _settings(db_iam_auth=True, postgres_user="atlas-api@atlas-test.iam", postgres_password=None)
    assert connect_kwargs(s) == {"user": "atlas-api@atlas-test.iam", "db": "atlas", "enable_iam_auth": True}
    with pytest.raises(ValueError):
        connect_kwargs(_settings(postgres_password=None))


def test_real_connector_is_lazy_private_and_takes_the_injected_credential() -> None:
    from google.cloud.sql.connector import IPTypes, RefreshStrategy

    creds = fake_credentials()
    connector = make_connector(_settings(db_iam_auth=True), credentials=creds)
    try:
        assert connector._credentials is creds
        assert connector._enable_iam_auth is True
        assert connector._refresh_strategy == RefreshStrategy.LAZY
        assert connector._ip_type == IPTypes.PRIVATE
        creator = cloudsql_creator(_settings(), connector=connector)
        assert callable(creator)  # nothing connected yet: no network at construction
    finally:
        connector.close()


def test_concurrent_claims_on_postgres_never_share_an_event(pg_database: str) -> None:
    from pipeline.adapters.sql_engine import make_engine
    from pipeline.adapters.sql_uow import SqlEventQueue, SqlUnitOfWorkFactory
    from pipeline.domain.events import document_uploaded

    engine = make_engine(pg_database, pool_size=4)
    with SqlUnitOfWorkFactory(engine)() as u:
        for i in range(40):
            u.outbox.add(document_uploaded("o", f"skip-locked-{i}", "h"))
        u.commit()
    seen: list[list[str]] = [[], [], [], []]

    def drain(slot: int) -> None:
        q = SqlEventQueue(engine)
        while claimed := q.claim(limit=3):
            for seq, ev, _ in claimed:
                seen[slot].append(ev.id)
                q.ack(seq)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    all_ids = [e for s in seen for e in s]
    assert len(all_ids) == 40 and len(set(all_ids)) == 40
    engine.dispose()
