"""Request-scoped access to the services and the caller's organisation."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import current_app, g, request

from pipeline.bootstrap import Services
from pipeline.keys import authenticate


def services() -> Services:
    """The app's composition root."""
    return current_app.extensions["atlas"]


def bearer_token() -> str | None:
    """The key from 'Authorization: Bearer …' (or X-API-Key)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def current_org() -> str:
    """The authenticated organisation of this request (set by require_org)."""
    return g.org_id


def require_org(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate the request's API key and rate-limit it; views then read current_org()."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        svc = services()
        token = bearer_token()
        g.org_id = authenticate(token, uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
        limiter = current_app.extensions.get("atlas_ratelimit")
        if limiter is not None:
            limiter.check(token or g.org_id, request.endpoint or "")
        return view(*args, **kwargs)

    return wrapper
