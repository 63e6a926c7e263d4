"""SQLAlchemy unit of work and repositories (SQLite embedded, Postgres in the cloud)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import Engine, and_, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from pipeline.adapters import sql_tables as t
from pipeline.adapters.sql_webhooks import SqlWebhooks
from pipeline.domain.errors import Conflict, NotFound
from pipeline.domain.events import Event
from pipeline.domain.model import (ApiKey, Document, DocumentStatus, Extraction, ExtractionResult, Organisation,
                                   new_id, utcnow)


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything in Atlas is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def install_sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout so the API and worker threads share one SQLite file."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN itself instead
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE: take the write lock up front, so read-then-write transactions wait instead of failing busy
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _doc_from_row(r: Row) -> Document:
    return Document(
        id=r.id, org_id=r.org_id, filename=r.filename, content_hash=r.content_hash, size_bytes=r.size_bytes,
        media_type=r.media_type, blob_key=r.blob_key, status=DocumentStatus(r.status), error_code=r.error_code,
        error_message=r.error_message, page_count=r.page_count, progress=dict(r.progress or {}),
        warnings=list(r.warnings or []), amends_document_id=r.amends_document_id, parsed_key=r.parsed_key,
        created_at=_aware(r.created_at), updated_at=_aware(r.updated_at))  # type: ignore[arg-type]


def _doc_values(d: Document) -> dict[str, Any]:
    return dict(id=d.id, org_id=d.org_id, filename=d.filename, content_hash=d.content_hash,
                size_bytes=d.size_bytes, media_type=d.media_type, blob_key=d.blob_key, status=d.status.value,
                error_code=d.error_code, error_message=d.error_message, page_count=d.page_count,
                progress=d.progress, warnings=d.warnings, amends_document_id=d.amends_document_id,
                parsed_key=d.parsed_key,
                created_at=d.created_at, updated_at=d.updated_at)


def _ext_from_row(r: Row) -> Extraction:
    return Extraction(id=r.id, document_id=r.document_id, org_id=r.org_id, version=r.version,
                      result=ExtractionResult.from_dict(r.result), extractor_version=r.extractor_version,
                      content_hash=r.content_hash, created_by=r.created_by,
                      created_at=_aware(r.created_at))  # type: ignore[arg-type]


class SqlDocuments:
    """Documents table; every read is scoped by organisation except the worker's get_any_org."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, doc: Document) -> None:
        """Insert; a second upload of the same bytes by the same org is a Conflict."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.documents).values(**_doc_values(doc)))
        except IntegrityError as exc:
            raise Conflict("document with the same content already exists") from exc

    def get(self, org_id: str, doc_id: str) -> Document:
        """The org's document or NotFound (another org's id is indistinguishable from a missing one)."""
        r = self.conn.execute(select(t.documents).where(t.documents.c.id == doc_id,
                                                        t.documents.c.org_id == org_id)).first()
        if r is None:
            raise NotFound(f"document {doc_id} not found")
        return _doc_from_row(r)

    def get_any_org(self, doc_id: str) -> Document:
        """For workers acting on an event that already carries the org."""
        r = self.conn.execute(select(t.documents).where(t.documents.c.id == doc_id)).first()
        if r is None:
            raise NotFound(f"document {doc_id} not found")
        return _doc_from_row(r)

    def find_by_hash(self, org_id: str, content_hash: str) -> Document | None:
        """The org's document with these bytes, if any."""
        r = self.conn.execute(select(t.documents).where(t.documents.c.org_id == org_id,
                                                        t.documents.c.content_hash == content_hash)).first()
        return _doc_from_row(r) if r else None

    def list(self, org_id: str, *, limit: int = 100, offset: int = 0, status: str | None = None) -> list[Document]:
        """The org's documents, newest first."""
        q = select(t.documents).where(t.documents.c.org_id == org_id)
        if status:
            q = q.where(t.documents.c.status == status)
        q = q.order_by(t.documents.c.created_at.desc(), t.documents.c.id).limit(limit).offset(offset)
        return [_doc_from_row(r) for r in self.conn.execute(q)]

    def count(self, org_id: str | None = None) -> int:
        """How many documents (of one org, or all)."""
        q = select(func.count()).select_from(t.documents)
        if org_id:
            q = q.where(t.documents.c.org_id == org_id)
        return int(self.conn.execute(q).scalar_one())

    def update(self, doc: Document) -> None:
        """Write back status, progress and metadata."""
        doc.updated_at = utcnow()
        vals = _doc_values(doc)
        vals.pop("id")
        try:
            with self.conn.begin_nested():
                self.conn.execute(update(t.documents).where(t.documents.c.id == doc.id,
                                                            t.documents.c.org_id == doc.org_id).values(**vals))
        except IntegrityError as exc:
            raise Conflict("another document of this organisation has the same content") from exc

    def delete(self, org_id: str, doc_id: str) -> None:
        """Remove the row and its extractions."""
        self.conn.execute(delete(t.extractions).where(t.extractions.c.document_id == doc_id,
                                                      t.extractions.c.org_id == org_id))
        self.conn.execute(delete(t.documents).where(t.documents.c.id == doc_id, t.documents.c.org_id == org_id))


class SqlExtractions:
    """Extraction versions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, extraction: Extraction) -> None:
        """Insert a version; the (document, version) pair is unique, so a racing writer gets Conflict."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.extractions).values(
                    id=extraction.id, document_id=extraction.document_id, org_id=extraction.org_id,
                    version=extraction.version, result=extraction.result.to_dict(),
                    extractor_version=extraction.extractor_version, content_hash=extraction.content_hash,
                    created_by=extraction.created_by, created_at=extraction.created_at))
        except IntegrityError as exc:
            raise Conflict("extraction version already exists") from exc

    def next_version(self, doc_id: str) -> int:
        """1 + the highest version of the document."""
        v = self.conn.execute(select(func.max(t.extractions.c.version))
                              .where(t.extractions.c.document_id == doc_id)).scalar()
        return int(v or 0) + 1

    def latest(self, org_id: str, doc_id: str) -> Extraction | None:
        """The current version."""
        r = self.conn.execute(select(t.extractions).where(t.extractions.c.document_id == doc_id,
                                                          t.extractions.c.org_id == org_id)
                              .order_by(t.extractions.c.version.desc()).limit(1)).first()
        return _ext_from_row(r) if r else None

    def get_version(self, org_id: str, doc_id: str, version: int) -> Extraction | None:
        """One version."""
        r = self.conn.execute(select(t.extractions).where(t.extractions.c.document_id == doc_id,
                                                          t.extractions.c.org_id == org_id,
                                                          t.extractions.c.version == version)).first()
        return _ext_from_row(r) if r else None

    def versions(self, org_id: str, doc_id: str) -> list[int]:
        """All version numbers, ascending."""
        return [r[0] for r in self.conn.execute(
            select(t.extractions.c.version).where(t.extractions.c.document_id == doc_id,
                                                  t.extractions.c.org_id == org_id)
            .order_by(t.extractions.c.version))]

    def find(self, org_id: str, doc_id: str, content_hash: str, extractor_version: str) -> Extraction | None:
        """A machine extraction for these exact bytes and extractor (the job's idempotency key)."""
        r = self.conn.execute(select(t.extractions).where(
            t.extractions.c.document_id == doc_id, t.extractions.c.org_id == org_id,
            t.extractions.c.content_hash == content_hash,
            t.extractions.c.extractor_version == extractor_version)
            .order_by(t.extractions.c.version.desc()).limit(1)).first()
        return _ext_from_row(r) if r else None

    def list_latest(self, org_id: str) -> list[Extraction]:
        """The latest version of every document of the org."""
        sub = (select(t.extractions.c.document_id, func.max(t.extractions.c.version).label("v"))
               .where(t.extractions.c.org_id == org_id).group_by(t.extractions.c.document_id).subquery())
        q = select(t.extractions).join(sub, and_(t.extractions.c.document_id == sub.c.document_id,
                                                 t.extractions.c.version == sub.c.v))
        return [_ext_from_row(r) for r in self.conn.execute(q)]

    def count(self, doc_id: str | None = None) -> int:
        """Number of versions (of one document, or all)."""
        q = select(func.count()).select_from(t.extractions)
        if doc_id:
            q = q.where(t.extractions.c.document_id == doc_id)
        return int(self.conn.execute(q).scalar_one())


class SqlOutbox:
    """Outbox rows: written with the change, consumed by the local worker or relayed to Pub/Sub."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, ev: Event) -> None:
        """Record an event in the current transaction."""
        now = utcnow()
        self.conn.execute(insert(t.outbox).values(
            event_id=ev.id, type=ev.type, org_id=ev.org_id, payload=ev.payload,
            idempotency_key=ev.idempotency_key, status="pending", attempts=0, available_at=now, created_at=now))

    def pending_count(self) -> int:
        """Events not yet done or dead."""
        return int(self.conn.execute(select(func.count()).select_from(t.outbox)
                                     .where(t.outbox.c.status.in_(("pending", "claimed")))).scalar_one())


class SqlKeys:
    """Organisations and API keys."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create_org(self, name: str) -> Organisation:
        """A new organisation (Conflict when the name exists)."""
        org = Organisation(id=new_id(), name=name)
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.organisations).values(id=org.id, name=org.name, created_at=org.created_at))
        except IntegrityError as exc:
            raise Conflict(f"organisation {name!r} exists") from exc
        return org

    def get_org_by_name(self, name: str) -> Organisation | None:
        """Look up by name."""
        r = self.conn.execute(select(t.organisations).where(t.organisations.c.name == name)).first()
        return Organisation(id=r.id, name=r.name, created_at=_aware(r.created_at)) if r else None  # type: ignore[arg-type]

    def get_org(self, org_id: str) -> Organisation | None:
        """Look up by id."""
        r = self.conn.execute(select(t.organisations).where(t.organisations.c.id == org_id)).first()
        return Organisation(id=r.id, name=r.name, created_at=_aware(r.created_at)) if r else None  # type: ignore[arg-type]

    def add_key(self, key: ApiKey) -> None:
        """Store a hashed key."""
        self.conn.execute(insert(t.api_keys).values(
            id=key.id, org_id=key.org_id, prefix=key.prefix, key_hash=key.key_hash, created_at=key.created_at,
            revoked_at=key.revoked_at, expires_at=key.expires_at, last_used_at=key.last_used_at))

    def find_key(self, prefix: str) -> Iterator[ApiKey]:
        """Keys with this public prefix."""
        for r in self.conn.execute(select(t.api_keys).where(t.api_keys.c.prefix == prefix)):
            yield ApiKey(id=r.id, org_id=r.org_id, prefix=r.prefix, key_hash=r.key_hash,
                         created_at=_aware(r.created_at), revoked_at=_aware(r.revoked_at),  # type: ignore[arg-type]
                         expires_at=_aware(r.expires_at), last_used_at=_aware(r.last_used_at))

    def list_keys(self, org_id: str) -> list[ApiKey]:
        """Keys of one org (hashes only)."""
        rows = self.conn.execute(select(t.api_keys).where(t.api_keys.c.org_id == org_id)
                                 .order_by(t.api_keys.c.created_at))
        return [ApiKey(id=r.id, org_id=r.org_id, prefix=r.prefix, key_hash=r.key_hash,
                       created_at=_aware(r.created_at), revoked_at=_aware(r.revoked_at),  # type: ignore[arg-type]
                       expires_at=_aware(r.expires_at), last_used_at=_aware(r.last_used_at)) for r in rows]

    def touch_key(self, key_id: str) -> None:
        """Record last use."""
        self.conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(last_used_at=utcnow()))

    def revoke_key(self, key_id: str) -> None:
        """Revoke (idempotent)."""
        self.conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
                          .values(revoked_at=utcnow()))


class SqlIdempotency:
    """Stored first responses of POSTs sent with an Idempotency-Key, per organisation."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, org_id: str, key: str, *, max_age_s: float = 86_400.0) -> tuple[int, dict] | None:
        """(status code, stored response) for the org's key, unless older than max_age_s."""
        r = self.conn.execute(select(t.idempotency_keys).where(t.idempotency_keys.c.org_id == org_id,
                                                               t.idempotency_keys.c.key == key)).first()
        if r is None or (utcnow() - _aware(r.created_at)).total_seconds() > max_age_s:  # type: ignore[operator]
            return None
        return int(r.status_code), dict(r.response)

    def put(self, org_id: str, key: str, status_code: int, response: dict) -> bool:
        """Store the first response (replacing an expired one); False when another request stored it first."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(delete(t.idempotency_keys).where(
                    t.idempotency_keys.c.org_id == org_id, t.idempotency_keys.c.key == key,
                    t.idempotency_keys.c.created_at < utcnow() - timedelta(days=1)))
                self.conn.execute(insert(t.idempotency_keys).values(
                    org_id=org_id, key=key, response=response, status_code=status_code, created_at=utcnow()))
        except IntegrityError:
            return False
        return True


class SqlUnitOfWork:
    """One transaction; repositories share its connection. Use as a context manager; commit explicitly."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.documents = SqlDocuments(self.conn)
        self.extractions = SqlExtractions(self.conn)
        self.outbox = SqlOutbox(self.conn)
        self.keys = SqlKeys(self.conn)
        self.idempotency = SqlIdempotency(self.conn)
        self.webhooks = SqlWebhooks(self.conn)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.conn is not None
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
            self.conn = None

    def hold_blob(self, key: str) -> None:
        """Lock a blob key until this transaction ends (see pipeline.blob_refs)."""
        from pipeline.blob_refs import hold_blob

        assert self.conn is not None
        hold_blob(self.conn, key)

    def commit(self) -> None:
        """Make the changes durable."""
        self._tx.commit()
        assert self.conn is not None
        self._tx = self.conn.begin()

    def rollback(self) -> None:
        """Throw the changes away."""
        self._tx.rollback()
        assert self.conn is not None
        self._tx = self.conn.begin()


class SqlUnitOfWorkFactory:
    """Makes units of work over one engine (the thing use cases receive)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)


class SqlEventQueue:
    """The outbox table read as a durable queue: claims with a lease, so a crashed worker's events come back."""

    def __init__(self, engine: Engine, *, lease_s: float = 600.0, max_attempts: int = 5) -> None:
        self.engine = engine
        self.lease_s = lease_s
        self.max_attempts = max_attempts

    def claim(self, types: tuple[str, ...] | None = None, limit: int = 1) -> list[tuple[int, Event, int]]:
        """Take up to `limit` due events (pending, or claimed with an expired lease): (seq, event, attempt)."""
        now = utcnow()
        out: list[tuple[int, Event, int]] = []
        with self.engine.begin() as conn:
            q = select(t.outbox).where(or_(and_(t.outbox.c.status == "pending", t.outbox.c.available_at <= now),
                                           and_(t.outbox.c.status == "claimed", t.outbox.c.claimed_until < now)))
            if types:
                q = q.where(t.outbox.c.type.in_(types))
            q = q.order_by(t.outbox.c.seq).limit(limit)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            for r in conn.execute(q).all():
                res = conn.execute(update(t.outbox).where(t.outbox.c.seq == r.seq, t.outbox.c.status == r.status,
                                                          t.outbox.c.attempts == r.attempts)
                                   .values(status="claimed", attempts=r.attempts + 1,
                                           claimed_until=now + timedelta(seconds=self.lease_s)))
                if res.rowcount == 1:
                    ev = Event(type=r.type, org_id=r.org_id, payload=dict(r.payload), id=r.event_id,
                               idempotency_key=r.idempotency_key)
                    out.append((r.seq, ev, r.attempts + 1))
        return out

    def ack(self, seq: int) -> None:
        """The event was handled."""
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.seq == seq)
                         .values(status="done", done_at=utcnow(), claimed_until=None))

    def nack(self, seq: int, error: str, *, retry_in_s: float) -> str:
        """Handling failed: retry later, or dead-letter after max attempts. Returns the new status."""
        with self.engine.begin() as conn:
            attempts = conn.execute(select(t.outbox.c.attempts).where(t.outbox.c.seq == seq)).scalar_one()
            status = "dead" if attempts >= self.max_attempts else "pending"
            conn.execute(update(t.outbox).where(t.outbox.c.seq == seq).values(
                status=status, last_error=error[:2000], claimed_until=None,
                available_at=utcnow() + timedelta(seconds=retry_in_s)))
        return status

    def release(self, seq: int) -> None:
        """Give an event back untouched (shutdown): not counted as an attempt."""
        with self.engine.begin() as conn:
            conn.execute(update(t.outbox).where(t.outbox.c.seq == seq, t.outbox.c.status == "claimed")
                         .values(status="pending", attempts=t.outbox.c.attempts - 1, claimed_until=None))

    def mark_processed(self, consumer: str, event_id: str) -> bool:
        """Record that a consumer handled an event; False when it already had (duplicate delivery)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.processed_events).values(consumer=consumer, event_id=event_id,
                                                                processed_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def was_processed(self, consumer: str, event_id: str) -> bool:
        """Whether the consumer already handled this event."""
        with self.engine.connect() as conn:
            return conn.execute(select(t.processed_events.c.event_id).where(
                t.processed_events.c.consumer == consumer, t.processed_events.c.event_id == event_id)).first() is not None

    def depth(self) -> dict[str, int]:
        """Counts per status."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status)).all()
        return {r[0]: int(r[1]) for r in rows}

    def check(self) -> None:
        """Readiness: the queue table answers."""
        self.depth()


def recover_claims(engine: Engine) -> int:
    """Embedded start-up: the single local worker owns every claim, so claims left by a crash are released."""
    with engine.begin() as conn:
        res = conn.execute(update(t.outbox).where(t.outbox.c.status == "claimed")
                           .values(status="pending", claimed_until=None))
    return int(res.rowcount or 0)
