"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from api.deps import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers (no dependencies checked)."""
    return jsonify({"status": "ok"})


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: database, blob store and queue all answer."""
    svc = services()
    checks: dict[str, str] = {}
    def database() -> None:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    for name, probe in (("database", database),
                        ("blob_store", svc.blobs.check), ("queue", svc.queue.check)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # readiness reports the failure instead of raising
            checks[name] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ready" if ok else "not_ready", "checks": checks}), 200 if ok else 503
