"""Rate limits on every /v1 and legacy route (Flask-Limiter), per caller and route group, in a shared store.

ATLAS_RATE_LIMIT_STORAGE_URI picks the store: memory:// (one process, the embedded default) or e.g.
redis://127.0.0.1:6379 so that every instance counts against the same budget. Callers are told apart by their
API key (hashed; a wrong key gets its own budget and never spends the real key's) or, without one, by address.
Cloudflare rate-limits at the edge as well.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Flask, request
from flask_limiter import Limiter

from api.deps import bearer_token
from pipeline.settings import Settings

log = logging.getLogger(__name__)

# liveness, readiness and the schema stay reachable for probes and monitoring
EXEMPT_ENDPOINTS = frozenset({"health.health", "health.ready", "_openapi", "static"})


def route_group(endpoint: str) -> str:
    """upload (anything that takes a file), query, or read: each group has its own budget."""
    name = endpoint.rsplit(".", 1)[-1]
    if "upload" in name or name == "create_document" or name.startswith("extract") or name == "stream_key_terms":
        return "upload"
    if "query" in name:
        return "query"
    return "read"


def caller_key() -> str:
    """Who is calling (a hash of the API key, else the client address) and which route group."""
    token = bearer_token()
    who = "key:" + hashlib.sha256(token.encode()).hexdigest()[:32] if token else "addr:" + (request.remote_addr or "")
    return f"{who}:{route_group(request.endpoint or '')}"


def _exempt() -> bool:
    return request.method == "OPTIONS" or request.endpoint in EXEMPT_ENDPOINTS or request.endpoint is None


def install(app: Flask, settings: Settings) -> Limiter:
    """Limit every route of the app to ATLAS_RATE_LIMIT_PER_MINUTE per caller and group (moving window)."""
    limiter = Limiter(
        caller_key, app=app, storage_uri=settings.rate_limit_storage_uri,
        application_limits=[f"{settings.rate_limit_per_minute}/minute"],
        application_limits_exempt_when=_exempt, strategy="moving-window", headers_enabled=True,
        key_prefix="atlas-rl", swallow_errors=True, in_memory_fallback_enabled=True)
    return limiter
