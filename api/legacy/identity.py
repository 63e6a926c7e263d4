"""Who is calling a legacy route: an API key's organisation (required in production) and the app's user id."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy.engine import Connection

from api.deps import bearer_token, services
from pipeline.domain.errors import NotFound, Unauthorized
from pipeline.keys import authenticate
from pipeline.legacy import records


@dataclass(frozen=True)
class Caller:
    """The request's identity: org_id is set only when an API key authenticated it."""

    org_id: str | None
    user_id: str | None

    @property
    def authenticated(self) -> bool:
        """Whether an API key vouched for this request."""
        return self.org_id is not None


def request_user_id(body: dict[str, Any] | None = None) -> str | None:
    """The app's user id from the JSON body or the query string (the app sends it on some routes only)."""
    uid = (body or {}).get("user_id") if isinstance(body, dict) else None
    uid = uid or request.args.get("user_id")
    return str(uid) if uid else None


def current_caller(user_id: str | None) -> Caller:
    """Authenticate: a presented key is always checked; production requires one unless trust is opted into."""
    svc = services()
    token = bearer_token()
    if token:
        org_id = authenticate(token, uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
        return Caller(org_id, user_id)
    if svc.settings.is_production and not svc.settings.legacy_trust_user_id:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <Atlas API key>'")
    return Caller(None, user_id)


def working_org(conn: Connection, caller: Caller) -> str:
    """The organisation new uploads go to: the key's, else the user's own, else the shared development one."""
    if caller.org_id is not None:
        return caller.org_id
    if caller.user_id:
        return records.ensure_user(conn, caller.user_id)["org_id"]
    return records.org_named(conn, records.SHARED_ORG)


def user_in_scope(conn: Connection, caller: Caller, user_id: str) -> dict[str, Any] | None:
    """The caller's organisation's user with this id (users are per organisation), else None."""
    return records.get_user(conn, caller.org_id, user_id)


def check_document(conn: Connection, caller: Caller, doc_id: str) -> dict[str, Any]:
    """The registered document when the caller may see it; NotFound otherwise (another user's looks missing)."""
    doc = records.get_registration(conn, doc_id)
    if doc is None:
        raise NotFound("Document not found")
    if caller.org_id is not None and doc["org_id"] != caller.org_id:
        raise NotFound("Document not found")
    if caller.user_id is not None and doc["user_id"] != caller.user_id:
        raise NotFound("Document not found")
    return doc


def json_body() -> dict[str, Any] | None:
    """The request's JSON object, or None when absent or not an object."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def reading_org(conn: Connection, caller: Caller) -> str | None:
    """The organisation a read-only route answers from (nothing is created; None when the caller has none)."""
    if caller.org_id is not None:
        return caller.org_id
    if caller.user_id:
        user = records.get_user(conn, None, caller.user_id)
        return user["org_id"] if user else None
    return records.find_org(conn, records.SHARED_ORG)


def may_read_upload(conn: Connection, caller: Caller, upload: dict[str, Any]) -> bool:
    """Whether the caller owns an upload token: its key's organisation, or (development) its user's uploads.

    Without a key or user id (development only) knowing the token is enough: it carries the file's SHA-256.
    """
    if caller.org_id is not None:
        return upload["org_id"] == caller.org_id
    if not caller.user_id:
        return True
    user = records.get_user(conn, None, caller.user_id)
    if user is not None and upload["org_id"] == user["org_id"]:
        return True
    # the app's /upload carries no user id: shared development uploads. Registering someone else's token grants
    # nothing (register-document refuses tokens the caller cannot read).
    return upload["org_id"] == records.find_org(conn, records.SHARED_ORG)
