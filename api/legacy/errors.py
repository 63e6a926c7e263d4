"""Legacy error shapes, on the legacy blueprint only: {"error"} for bad input, {"status","message"} otherwise."""
from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from api.legacy.blueprint import bp
from pipeline.domain import errors as e

log = logging.getLogger(__name__)


def bad_request(message: str, status: int = 400) -> tuple[Response, int]:
    """A validation failure: {"error": message}."""
    return jsonify({"error": message}), status


def failure(message: str, status: int = 500) -> tuple[Response, int]:
    """A handled failure: {"status": "error", "message": message}."""
    return jsonify({"status": "error", "message": message}), status


@bp.errorhandler(e.AtlasError)
def _atlas(exc: e.AtlasError) -> tuple[Response, int]:
    if isinstance(exc, e.Unauthorized):
        return failure(exc.message, 401)
    if isinstance(exc, e.NotFound):
        return failure(exc.message, 404)
    if isinstance(exc, e.InvalidDocument):
        return failure(exc.message, 413) if exc.code == "too_large" else bad_request(exc.message)
    if isinstance(exc, (e.ValidationFailed, e.Conflict)):
        return bad_request(exc.message, 409 if isinstance(exc, e.Conflict) else 400)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None or exc.code == "shutting_down":
        # rate limited (429) or overloaded / shutting down (503): expected, and logged below ERROR
        resp, status = failure(exc.message, 503 if isinstance(exc, e.TransientError) else 429)
        resp.headers["Retry-After"] = str(int((retry_after or 5) + 0.999))
        log.info("legacy request refused", extra={"code": exc.code, "path": request.path, "status": status})
        return resp, status
    log.error("legacy request failed", extra={"code": exc.code, "path": request.path})
    return failure(exc.message, 503 if isinstance(exc, e.TransientError) else 500)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    return failure(exc.description or exc.name, exc.code or 500)


@bp.errorhandler(Exception)
def _unhandled(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error in legacy route", extra={"path": request.path})
    return failure("Internal server error", 500)


@bp.app_errorhandler(MethodNotAllowed)
def _method_not_allowed(exc: MethodNotAllowed) -> Response | tuple[Response, int]:
    """405 is raised before any blueprint is chosen: answer in the legacy shape only for legacy paths."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    endpoint = None
    for method in exc.valid_methods or ():
        try:
            endpoint, _ = adapter.match(request.path, method=method)
            break
        except (HTTPException, LookupError):
            continue
    if endpoint and endpoint.startswith(bp.name + "."):
        resp, code = failure(exc.description or "Method Not Allowed", 405)
        resp.headers["Allow"] = ", ".join(exc.valid_methods or ())
        return resp, code
    from api.errors import error_response

    resp = error_response(405, "method_not_allowed", exc.description or "Method Not Allowed")
    resp.headers["Allow"] = ", ".join(exc.valid_methods or ())
    return resp

