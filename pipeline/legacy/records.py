"""Rows of the legacy app: users (each with an organisation), upload tokens, registered documents, activities."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from pipeline.adapters.sql_uow import SqlKeys
from pipeline.domain.errors import Conflict
from pipeline.domain.model import new_id, utcnow
from pipeline.legacy import tables as lt

USER_ORG_PREFIX = "user:"
SHARED_ORG = "legacy-web"  # unauthenticated development uploads that carry no user id
MAX_TOKEN_NAME = 255
TOKEN_RE = re.compile(r"^uploaded_documents/([0-9a-f]{64})/([^/\\]{1,255})$")


def org_named(conn: Connection, name: str) -> str:
    """The id of the organisation with this name, created when new."""
    keys = SqlKeys(conn)
    org = keys.get_org_by_name(name)
    if org is not None:
        return org.id
    try:
        return keys.create_org(name).id
    except Conflict:  # created concurrently
        found = keys.get_org_by_name(name)
        assert found is not None
        return found.id


def user_org(conn: Connection, org_id: str | None, app_id: str, *, create: bool) -> str | None:
    """Where a user id lives: the API key's organisation, else (no key) the user's own "user:<id>"."""
    if org_id is not None:
        return org_id
    name = USER_ORG_PREFIX + app_id
    return org_named(conn, name) if create else find_org(conn, name)


def _user(row: Any) -> dict[str, Any] | None:
    """A users row as the routes use it: "id" is the app's id, "key" the internal one other tables reference."""
    if row is None:
        return None
    out = dict(row)
    out["key"], out["id"] = out["id"], out.pop("app_id")
    return out


def get_user(conn: Connection, org_id: str | None, app_id: str) -> dict[str, Any] | None:
    """The organisation's user with this app id (no key: the user's own organisation), or None.

    User ids and emails are per organisation: another organisation's "alice" is another user, never visible here.
    """
    org = user_org(conn, org_id, app_id, create=False)
    if org is None:
        return None
    q = select(lt.users).where(lt.users.c.org_id == org, lt.users.c.app_id == app_id)
    return _user(conn.execute(q).mappings().first())


def get_user_by_key(conn: Connection, key: str) -> dict[str, Any] | None:
    """A user by its internal key (rows that reference users carry it), or None."""
    return _user(conn.execute(select(lt.users).where(lt.users.c.id == key)).mappings().first())


def _email_taken(conn: Connection, org_id: str, email: str, *, besides: str | None = None) -> bool:
    q = select(lt.users.c.id).where(lt.users.c.org_id == org_id, lt.users.c.email == email)
    if besides is not None:
        q = q.where(lt.users.c.id != besides)
    return conn.execute(q).first() is not None


def ensure_user(conn: Connection, user_id: str, *, email: str | None = None, name: str | None = None,
                org_id: str | None = None) -> dict[str, Any]:
    """The user, created when missing: in org_id when given, else in its own organisation "user:<id>"."""
    org = user_org(conn, org_id, user_id, create=True)
    assert org is not None
    found = get_user(conn, org, user_id)
    if found is not None:
        return found
    email = email or f"{user_id}@temp.local"
    if _email_taken(conn, org, email):
        raise Conflict(f"email {email} belongs to another user of this organisation")
    row = {"id": new_id(), "app_id": user_id, "org_id": org, "email": email, "name": name, "created_at": utcnow()}
    conn.execute(insert(lt.users).values(**row))
    return _user(row)  # type: ignore[return-value]


def sync_user(conn: Connection, user_id: str, email: str, name: str | None, *,
              org_id: str | None, may_merge: bool) -> dict[str, Any]:
    """Upsert by id within the organisation; a new id with a known email takes over that row only when may_merge."""
    org = user_org(conn, org_id, user_id, create=True)
    assert org is not None
    found = get_user(conn, org, user_id)
    if found is not None:
        if _email_taken(conn, org, email, besides=found["key"]):
            raise Conflict(f"email {email} belongs to another user of this organisation")
        conn.execute(update(lt.users).where(lt.users.c.id == found["key"]).values(email=email, name=name))
        found.update(email=email, name=name)
        return found
    by_email = conn.execute(select(lt.users).where(lt.users.c.org_id == org, lt.users.c.email == email)) \
        .mappings().first()
    if by_email is not None:
        if not may_merge:
            raise Conflict(f"email {email} belongs to another user of this organisation")
        conn.execute(update(lt.users).where(lt.users.c.id == by_email["id"]).values(app_id=user_id, name=name))
        return _user({**dict(by_email), "app_id": user_id, "name": name})  # type: ignore[return-value]
    return ensure_user(conn, user_id, email=email, name=name, org_id=org)


def upload_token(content_hash: str, display_name: str) -> str:
    """The opaque filepath handed to the app: it names a stored blob, never a place on disk."""
    return f"uploaded_documents/{content_hash}/{display_name}"


def add_upload(conn: Connection, *, token: str, org_id: str, blob_key: str, content_hash: str, filename: str,
               size_bytes: int) -> None:
    """Remember an upload token (same bytes and name again: kept once)."""
    exists = conn.execute(select(lt.uploads.c.token).where(lt.uploads.c.token == token,
                                                           lt.uploads.c.org_id == org_id)).first()
    if exists is None:
        conn.execute(insert(lt.uploads).values(token=token, org_id=org_id, blob_key=blob_key,
                                               content_hash=content_hash, filename=filename, size_bytes=size_bytes,
                                               created_at=utcnow()))


def find_upload(conn: Connection, token: str | None, org_id: str | None) -> dict[str, Any] | None:
    """The upload a token names (within org_id when given); None for anything that is not a known token."""
    if not token or not TOKEN_RE.match(token):
        return None
    q = select(lt.uploads).where(lt.uploads.c.token == token)
    if org_id is not None:
        q = q.where(lt.uploads.c.org_id == org_id)
    r = conn.execute(q).mappings().first()
    return dict(r) if r else None


def find_upload_by_name(conn: Connection, name: str, org_id: str | None) -> dict[str, Any] | None:
    """The newest upload whose display name is `name` (the stream route's ?filename=)."""
    q = select(lt.uploads).where(lt.uploads.c.filename == name)
    if org_id is not None:
        q = q.where(lt.uploads.c.org_id == org_id)
    r = conn.execute(q.order_by(lt.uploads.c.created_at.desc()).limit(1)).mappings().first()
    return dict(r) if r else None


def _registrations() -> Any:
    """Registered documents with their user's app id: "user_id" is the app's id, "user_key" the stored key."""
    return select(lt.registrations, lt.users.c.app_id).join(lt.users, lt.users.c.id == lt.registrations.c.user_id)


def _registration(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["user_key"], out["user_id"] = out["user_id"], out.pop("app_id")
    return out


def get_registration(conn: Connection, doc_id: str) -> dict[str, Any] | None:
    """A registered document row, or None."""
    r = conn.execute(_registrations().where(lt.registrations.c.id == doc_id)).mappings().first()
    return _registration(r) if r else None


def list_registrations(conn: Connection, user_key: str) -> list[dict[str, Any]]:
    """A user's registered documents (by the user's key, so within its organisation), newest first."""
    q = _registrations().where(lt.registrations.c.user_id == user_key)
    q = q.order_by(lt.registrations.c.created_at.desc(), lt.registrations.c.id)
    return [_registration(r) for r in conn.execute(q).mappings()]


def list_activities(conn: Connection, doc_id: str, *, newest_first: bool) -> list[dict[str, Any]]:
    """A document's activities in ledger order (or reversed)."""
    order = lt.activities.c.block_number.desc() if newest_first else lt.activities.c.block_number
    q = select(lt.activities).where(lt.activities.c.document_id == doc_id).order_by(order)
    return [dict(r) for r in conn.execute(q).mappings()]


def get_activity(conn: Connection, activity_id: str) -> dict[str, Any] | None:
    """One activity row, or None."""
    r = conn.execute(select(lt.activities).where(lt.activities.c.id == activity_id)).mappings().first()
    return dict(r) if r else None


def find_org(conn: Connection, name: str) -> str | None:
    """The id of the organisation with this name, or None (never creates it)."""
    org = SqlKeys(conn).get_org_by_name(name)
    return org.id if org else None


def list_ledger(conn: Connection, *, org_id: str | None, user_key: str | None, limit: int) -> list[dict[str, Any]]:
    """Ledger activities, newest first, within an organisation and/or a user's (by key) registered documents."""
    q = select(lt.activities)
    if org_id is not None:
        q = q.where(lt.activities.c.org_id == org_id)
    if user_key is not None:
        q = q.where(lt.activities.c.document_id.in_(
            select(lt.registrations.c.id).where(lt.registrations.c.user_id == user_key)))
    q = q.order_by(lt.activities.c.timestamp.desc(), lt.activities.c.block_number.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]
