"""Domain errors → HTTP, in one table; every error body is {"error": {"code", "message", "request_id"}}."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from pipeline.domain import errors as e

log = logging.getLogger(__name__)

STATUS: dict[type[e.AtlasError], int] = {
    e.InvalidDocument: 422,
    e.ValidationFailed: 400,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Unauthorized: 401,
    e.TransientError: 503,
    e.PermanentError: 500,
}

# upload problems the client can fix by sending something else
UPLOAD_STATUS = {"empty_file": 400, "too_large": 413, "unsupported_type": 415, "type_mismatch": 415}


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    """The stable JSON error shape."""
    body = {"error": {"code": code, "message": message, "request_id": getattr(g, "request_id", None), **extra}}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _status_for(exc: e.AtlasError) -> int:
    if isinstance(exc, e.InvalidDocument) and exc.code in UPLOAD_STATUS:
        return UPLOAD_STATUS[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def install(app: Flask) -> None:
    """Register the handlers (legacy routes install their own shapes on their blueprint)."""

    @app.errorhandler(e.AtlasError)
    def _atlas(exc: e.AtlasError) -> Response:
        status = _status_for(exc)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # rate limited (429) or overloaded (503): expected, so not logged as an error
            status = 503 if isinstance(exc, e.TransientError) else 429
            log.info("request refused", extra={"code": exc.code, "path": request.path, "status": status})
        elif status >= 500:
            log.error("request failed", extra={"code": exc.code, "path": request.path})
        resp = error_response(status, exc.code, exc.message)
        if retry_after is not None:
            resp.headers["Retry-After"] = str(int(retry_after + 0.999))
        return resp

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Response:
        # a dropped or busy database is worth a retry, not a 500
        log.warning("database unavailable", extra={"path": request.path, "error": type(exc.orig).__name__})
        resp = error_response(503, "database_unavailable", "the database is unavailable; retry shortly")
        resp.headers["Retry-After"] = "2"
        return resp

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> Response:
        # Retry-After and X-RateLimit-* are added by the limiter; a refusal is expected, so not logged as an error
        log.info("rate limited", extra={"path": request.path, "limit": str(exc.limit.limit)})
        if request.blueprint == "legacy":
            resp = jsonify({"status": "error", "message": f"rate limit exceeded ({exc.limit.limit}); retry later"})
            resp.status_code = 429
            return resp
        return error_response(429, "rate_limited", f"rate limit exceeded ({exc.limit.limit}); retry later")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if request.blueprint is None and _legacy_path(app):
            # an unknown route outside /v1 is the old web app's: its shape is {"status": "error", "message"}
            resp = jsonify({"status": "error", "message": exc.description or exc.name})
            resp.status_code = exc.code or 500
            return resp
        code = (exc.name or "http_error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "internal_error", "internal server error")


def _legacy_path(app: Flask) -> bool:
    """Whether this request's path belongs to the legacy web app (legacy routes on, not /v1 or the probes)."""
    if "legacy" not in app.blueprints:
        return False
    return not (request.path.startswith("/v1/") or request.path in ("/v1", "/health", "/ready", "/openapi.json"))
