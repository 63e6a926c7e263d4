"""Script ledger routes: /add-blockchain-activity appends to the hash-chained ledger, /blockchain-events reads it."""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Response, jsonify, request

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request
from api.legacy.identity import check_document, current_caller, json_body, request_user_id
from api.legacy.shapes import activity_json
from pipeline.legacy import records, sharing

DEFAULT_TYPE = "custom"
MAX_EVENTS = 1000
_LIMITS = {"action": 64, "type": 32, "actor": 200}


def event_json(a: dict[str, Any]) -> dict[str, Any]:
    """An activity as the script routes return it (the legacy dict carries document_id)."""
    return {**activity_json(a), "document_id": a["document_id"]}


def _validate(body: dict[str, Any]) -> str | None:
    for name in ("document_id", "action", "actor"):
        if not body.get(name):
            return f"Missing required field: {name}"
    for name, limit in _LIMITS.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return f"{name} must be a string of at most {limit} characters"
    if body.get("details") is not None and not isinstance(body["details"], str):
        return "details must be a string"
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return "metadata must be an object"
    revenue = body.get("revenue_impact", 0)
    if isinstance(revenue, bool) or not isinstance(revenue, (int, float)) or not math.isfinite(revenue):
        return "revenue_impact must be a finite number"
    try:
        json.dumps(body.get("metadata") or {}, allow_nan=False)
    except ValueError:
        return "metadata must not contain NaN or Infinity"
    return None


@bp.post("/add-blockchain-activity")
def add_blockchain_activity() -> Response | tuple[Response, int]:
    """Append one activity to the document's organisation chain (tx_hash covers the previous entry)."""
    body = json_body()
    if not body:
        return bad_request("No data provided")
    problem = _validate(body)
    if problem:
        return bad_request(problem)
    caller = current_caller(request_user_id(body))
    document_id = str(body["document_id"])

    def work(conn: Any) -> dict[str, Any]:
        doc = check_document(conn, caller, document_id)
        return sharing.share(conn, org_id=doc["org_id"], document_id=document_id, action=body["action"],
                             activity_type=body.get("type") or DEFAULT_TYPE, actor=body["actor"],
                             details=body.get("details") or "", extra_data=body.get("metadata") or {},
                             revenue_impact=float(body.get("revenue_impact") or 0.0))

    act = sharing.with_ledger_retry(services().engine, work)
    return jsonify({"status": "success", "activity": event_json(act)})


@bp.get("/blockchain-events")
def blockchain_events() -> Response | tuple[Response, int]:
    """The caller's ledger entries, newest first (?limit=, at most 1000)."""
    caller = current_caller(request_user_id())
    try:
        limit = int(request.args.get("limit", 100))
    except ValueError:
        return bad_request("limit must be an integer")
    limit = max(1, min(limit, MAX_EVENTS))
    with services().uow_factory() as uow:
        user_key = None
        if caller.user_id is not None:
            user = records.get_user(uow.conn, caller.org_id, caller.user_id)
            user_key = user["key"] if user else ""  # an unknown user has no ledger entries
        rows = records.list_ledger(uow.conn, org_id=caller.org_id, user_key=user_key, limit=limit)
    return jsonify({"status": "success", "events": [event_json(a) for a in rows], "count": len(rows)})
