"""API keys: generated once, stored as a peppered HMAC, compared in constant time."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Callable

from pipeline.domain.errors import Unauthorized
from pipeline.domain.model import ApiKey, Organisation, new_id, utcnow

KEY_PREFIX = "atl"


def hash_key(key: str, pepper: str) -> str:
    """HMAC-SHA256 of the key under the server's pepper."""
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def create_key(org_name: str, *, uow_factory: Callable, pepper: str,
               expires_at: datetime | None = None) -> tuple[Organisation, str, ApiKey]:
    """Create (or reuse) the organisation and a new key; returns the clear key, which is never stored."""
    prefix = secrets.token_hex(4)
    clear = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with uow_factory() as uow:
        org = uow.keys.get_org_by_name(org_name) or uow.keys.create_org(org_name)
        key = ApiKey(id=new_id(), org_id=org.id, prefix=prefix, key_hash=hash_key(clear, pepper),
                     expires_at=expires_at)
        uow.keys.add_key(key)
        uow.commit()
    return org, clear, key


def authenticate(clear: str | None, *, uow_factory: Callable, pepper: str) -> str:
    """The organisation id a presented key belongs to; Unauthorized for missing, unknown, revoked or expired keys."""
    if not clear:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    parts = clear.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("invalid API key")
    digest = hash_key(clear, pepper)
    now = utcnow()
    with uow_factory() as uow:
        for key in uow.keys.find_key(parts[1]):
            if not hmac.compare_digest(key.key_hash, digest):
                continue
            if key.revoked_at is not None:
                raise Unauthorized("API key revoked")
            if key.expires_at is not None and key.expires_at <= now:
                raise Unauthorized("API key expired")
            if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
                uow.keys.touch_key(key.id)
                uow.commit()
            return key.org_id
    raise Unauthorized("invalid API key")
