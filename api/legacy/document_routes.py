"""Users, registered documents, activities, sharing and ledger events (always scoped to the caller)."""
from __future__ import annotations

import json
import logging
import math
from typing import Any

from flask import Response, jsonify

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request
from api.legacy.identity import (check_document, current_caller, json_body, may_read_upload, request_user_id,
                                 user_in_scope)
from api.legacy.shapes import activity_json, document_json, user_json
from pipeline.domain.errors import Conflict, NotFound
from pipeline.domain.model import new_id
from pipeline.legacy import records, sharing

log = logging.getLogger(__name__)
MAX_EXTRACTED = 2 * 1024 * 1024  # the app sends one lease's summary and flags: a few KiB


def _label_ok(value: str) -> bool:
    return 0 < len(value) <= 32 and value.isprintable()


def finite_number(value: Any, default: float = 0.0) -> float | None:
    """A JSON number or numeric string as a finite float (None for Infinity, NaN, or anything else)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None


@bp.post("/sync-user")
def sync_user() -> Response | tuple[Response, int]:
    """Upsert the app's user (and its organisation)."""
    body = json_body()
    if not body:
        return bad_request("No data provided")
    for name in ("user_id", "email"):
        if not body.get(name):
            return bad_request(f"Missing required field: {name}")
    caller = current_caller(str(body["user_id"]))
    try:
        user = sharing.with_ledger_retry(services().engine, lambda conn: records.sync_user(
            conn, str(body["user_id"]), str(body["email"]), body.get("name"), org_id=caller.org_id,
            may_merge=caller.authenticated), attempts=2)
    except Conflict as exc:
        return bad_request(exc.message, 409)
    return jsonify({"status": "success", "message": "User synced successfully", "user": user_json(user)})


@bp.post("/register-document")
def register_document() -> Response | tuple[Response, int]:
    """A registered document with its opening ledger activities, in one transaction."""
    body = json_body()
    if not body:
        return bad_request("No data provided")
    # the old backend checked only that these keys were present: the app sends file_path "" when sharing
    for name in ("file_path", "title", "sharing_type", "user_id"):
        if name not in body or body[name] is None:
            return bad_request(f"Missing required field: {name}")
    if not str(body["user_id"]):
        return bad_request("Missing required field: user_id")
    sharing_type = str(body["sharing_type"])
    if not _label_ok(sharing_type):  # any label the old backend stored, as long as it fits and is printable
        return bad_request(f"Invalid sharing_type: {sharing_type[:40]}")
    emails = body.get("shared_emails") or []
    if not isinstance(emails, list) or not all(isinstance(x, str) for x in emails):
        return bad_request("shared_emails must be a list of strings")
    fee = finite_number(body.get("license_fee"))
    if fee is None:
        return bad_request("license_fee must be a finite number")
    asset_type = str(body.get("asset_type") or "office")
    if not _label_ok(asset_type):
        return bad_request(f"Invalid asset type: {asset_type[:40]}")
    extracted, flags = body.get("extracted_data") or {}, body.get("risk_flags") or []
    try:
        size = len(json.dumps([extracted, flags], allow_nan=False))
    except ValueError:
        return bad_request("extracted_data and risk_flags must not contain NaN or Infinity")
    if size > MAX_EXTRACTED:
        return bad_request(f"extracted_data and risk_flags must stay under {MAX_EXTRACTED // 1024} KiB", 413)
    user_id = str(body["user_id"])
    caller = current_caller(user_id)

    def work(conn: Any) -> dict[str, Any]:
        user = records.get_user(conn, caller.org_id, user_id) or records.ensure_user(
            conn, user_id, email=body.get("user_email"), name=body.get("user_name"), org_id=caller.org_id)
        upload = records.find_upload(conn, str(body["file_path"]), caller.org_id)
        if upload is not None and not may_read_upload(conn, caller, upload):
            raise NotFound("File not found")  # registering another user's token must not grant access to it
        source_id = None
        if upload is not None:
            from pipeline.adapters.sql_uow import SqlDocuments

            found = SqlDocuments(conn).find_by_hash(upload["org_id"], upload["content_hash"])
            source_id = found.id if found else None
        doc = sharing.register_document(
            conn, org_id=user["org_id"], user_id=user_id, user_key=user["key"], title=str(body["title"]),
            file_path=str(body["file_path"]),
            sharing_type=sharing_type, shared_emails=emails, license_fee=fee,
            extracted_data=extracted, risk_flags=flags,
            asset_type=asset_type, source_document_id=source_id)
        return {"doc": doc, "activities": records.list_activities(conn, doc["id"], newest_first=False)}

    try:
        out = sharing.with_ledger_retry(services().engine, work)
    except Conflict as exc:
        return bad_request(exc.message, 409)
    except NotFound as exc:
        return bad_request(exc.message, 404)
    return jsonify({"status": "success", "document": document_json(out["doc"], out["activities"], with_revenue=False),
                    "activity_count": len(out["activities"])})


@bp.get("/document/<document_id>")
def get_document(document_id: str) -> Response:
    """One registered document with its activities in ledger order (the last is the latest)."""
    caller = current_caller(request_user_id())
    with services().uow_factory() as uow:
        doc = check_document(uow.conn, caller, document_id)
        acts = records.list_activities(uow.conn, document_id, newest_first=False)
    return jsonify({"status": "success", "document": document_json(doc, acts)})


@bp.get("/user-documents/<user_id>")
def user_documents(user_id: str) -> Response:
    """The user's registered documents, newest first (another organisation's user: an empty list)."""
    caller = current_caller(user_id)
    with services().uow_factory() as uow:
        docs: list[dict[str, Any]] = []
        user = user_in_scope(uow.conn, caller, user_id)
        if user is not None:
            for d in records.list_registrations(uow.conn, user["key"]):
                docs.append(document_json(d, records.list_activities(uow.conn, d["id"], newest_first=True)))
    return jsonify({"status": "success", "documents": docs, "count": len(docs)})


@bp.get("/document-activities/<document_id>")
def document_activities(document_id: str) -> Response:
    """The document's activities, newest first."""
    caller = current_caller(request_user_id())
    with services().uow_factory() as uow:
        acts = [activity_json(a) for a in records.list_activities(uow.conn, document_id, newest_first=True)] \
            if _visible(uow.conn, caller, document_id) else []
    return jsonify({"status": "success", "activities": acts, "count": len(acts)})


@bp.get("/document-sharing-state/<document_id>")
def document_sharing_state(document_id: str) -> Response:
    """Firm share, external shares, licences and marketplace status derived from the activities written."""
    caller = current_caller(request_user_id())
    with services().uow_factory() as uow:
        acts = records.list_activities(uow.conn, document_id, newest_first=False) \
            if _visible(uow.conn, caller, document_id) else []
    return jsonify({"status": "success", "sharing_state": sharing.sharing_state(acts)})


def _visible(conn: Any, caller: Any, document_id: str) -> bool:
    """Whether the caller may see the document; unknown and another user's look the same (an empty result)."""
    try:
        check_document(conn, caller, document_id)
    except NotFound:
        return False
    return True


def _ledger_events(body: dict[str, Any]) -> list[Any]:
    events = body.get("ledger_events")
    return events if isinstance(events, list) else []


def _share(document_id: str, body: dict[str, Any], *, action: str, kind: str, details: str,
           extra: dict[str, Any], revenue: float = 0.0) -> dict[str, Any]:
    caller = current_caller(request_user_id(body))

    def work(conn: Any) -> dict[str, Any]:
        doc = check_document(conn, caller, document_id)
        extra_data = {**extra}
        if _ledger_events(body):
            extra_data["ledger_events"] = _ledger_events(body)
        return sharing.share(conn, org_id=doc["org_id"], document_id=document_id, action=action,
                             activity_type=kind, actor=caller.user_id or doc["user_id"], details=details,
                             extra_data=extra_data, revenue_impact=revenue)

    return sharing.with_ledger_retry(services().engine, work)


def _emails(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
        return None
    return [x.strip() for x in value]


@bp.post("/share-with-firm/<document_id>")
def share_with_firm(document_id: str) -> Response:
    """Share with the owner's firm."""
    body = json_body() or {}
    act = _share(document_id, body, action="SHARE_WITH_FIRM", kind="sharing", details="Document shared with firm",
                 extra={})
    return jsonify({"status": "success", "message": "Document successfully shared with firm", "activity_id": act["id"]})


@bp.post("/share-with-external/<document_id>")
def share_with_external(document_id: str) -> Response | tuple[Response, int]:
    """Invite external partners by email (one batch, recorded with its emails)."""
    body = json_body() or {}
    emails = _emails(body.get("shared_emails"))
    if not emails:
        return bad_request("No email addresses provided")
    batch_id = new_id()
    act = _share(document_id, body, action="INVITE_PARTNER", kind="sharing",
                 details=f"Sent access rights to {', '.join(emails)}",
                 extra={"shared_emails": emails, "batch_id": batch_id})
    return jsonify({"status": "success", "message": f"Document shared with {len(emails)} external partner(s)",
                    "activity_id": act["id"], "shared_emails": emails, "batch_id": batch_id})


@bp.post("/create-license/<document_id>")
def create_license(document_id: str) -> Response | tuple[Response, int]:
    """A licence offer to the listed emails at a monthly fee."""
    body = json_body() or {}
    emails = _emails(body.get("licensed_emails"))
    if not emails:
        return bad_request("No email addresses provided")
    fee = finite_number(body.get("monthly_fee")) or 0.0
    if fee <= 0:
        return bad_request("Monthly fee must be greater than 0")
    potential = fee * len(emails)
    act = _share(document_id, body, action="CREATE_LICENSE_OFFER", kind="licensing",
                 details=f"License offer created for {len(emails)} licensee(s) at ${fee:g}/month",
                 extra={"monthly_fee": fee, "licensed_emails": emails}, revenue=potential)
    return jsonify({"status": "success", "message": "License offer created successfully", "activity_id": act["id"],
                    "licensed_emails": emails, "monthly_fee": fee, "potential_revenue": potential})


@bp.post("/share-with-coop/<document_id>")
def share_with_coop(document_id: str) -> Response | tuple[Response, int]:
    """List the document on the data co-op marketplace at a price."""
    body = json_body() or {}
    price = finite_number(body.get("price_usdc")) or 0.0
    if price <= 0 or price > 1e12:
        return bad_request("Invalid price")
    template = str(body.get("license_template") or "Data Co-op Standard")
    owner_revenue = int(price * 0.85)
    act = _share(document_id, body, action="PUBLISH_TO_MARKETPLACE", kind="licensing",
                 details=f"Published to data co-op at {price:g} USDC ({template})",
                 extra={"price_usdc": price, "license_template": template}, revenue=owner_revenue)
    return jsonify({"status": "success", "message": "Document published to data co-op marketplace",
                    "activity_id": act["id"], "price_usdc": price, "license_template": template,
                    "owner_revenue_per_sale": owner_revenue})


@bp.get("/activity/<activity_id>/ledger-events")
def ledger_events(activity_id: str) -> Response:
    """The ledger events the app attached to an activity ([] when unknown or not the caller's)."""
    caller = current_caller(request_user_id())
    events: list[Any] = []
    with services().uow_factory() as uow:
        act = records.get_activity(uow.conn, activity_id)
        if act is not None:
            doc = records.get_registration(uow.conn, act["document_id"])
            visible = doc is not None and (caller.org_id is None or doc["org_id"] == caller.org_id) and \
                (caller.user_id is None or doc["user_id"] == caller.user_id)
            if visible:
                events = list((act.get("extra_data") or {}).get("ledger_events") or [])
    return jsonify({"status": "success", "ledger_events": events})

