"""Domain errors → HTTP, in one table; every error body is {"error": {"code", "message", "request_id"}}."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
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
        if status >= 500:
            log.error("request failed", extra={"code": exc.code, "path": request.path})
        resp = error_response(status, exc.code, exc.message)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            resp.status_code = 429
            resp.headers["Retry-After"] = str(int(retry_after + 0.999))
        return resp

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Response:
        # a dropped or busy database is worth a retry, not a 500
        log.warning("database unavailable", extra={"path": request.path, "error": type(exc.orig).__name__})
        resp = error_response(503, "database_unavailable", "the database is unavailable; retry shortly")
        resp.headers["Retry-After"] = "2"
        return resp

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = (exc.name or "http_error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "internal_error", "internal server error")
