"""Registering documents and sharing them: each step is an activity on the organisation's ledger."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from pipeline.domain.errors import Conflict
from pipeline.domain.model import new_id
from pipeline.legacy import ledger
from pipeline.legacy import tables as lt

SHARING_TYPES = ("private", "firm", "external", "license", "coop")
COOP_OWNER_SHARE = 0.85
T = TypeVar("T")


def with_ledger_retry(engine: Any, work: Callable[[Connection], T], attempts: int = 6) -> T:
    """Run work in its own transaction, again when a concurrent writer moved the ledger head first."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (Conflict, IntegrityError, OperationalError):
            if attempt == attempts:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")


def register_document(conn: Connection, *, org_id: str, user_id: str, user_key: str, title: str,
                      file_path: str, sharing_type: str, shared_emails: list[str], license_fee: float, extracted_data: Any,
                      risk_flags: Any, asset_type: str, source_document_id: str | None) -> dict[str, Any]:
    """Insert the document and its opening activities (origination, then what sharing_type asks for).

    user_id is the app's id (the actor in the ledger and in the JSON); user_key the users row it references.
    """
    now = time.time()
    doc = {"id": new_id(), "org_id": org_id, "user_id": user_key, "title": title, "file_path": file_path,
           "source_document_id": source_document_id, "sharing_type": sharing_type, "asset_type": asset_type,
           "status": "active", "ownership_type": "owned", "license_fee": float(license_fee or 0.0),
           "revenue_generated": 0.0, "shared_emails": list(shared_emails), "extracted_data": extracted_data,
           "risk_flags": risk_flags, "created_at": now, "updated_at": now}
    conn.execute(insert(lt.registrations).values(**doc))
    doc.update(user_id=user_id, user_key=user_key)

    def add(action: str, kind: str, details: str, extra: dict[str, Any] | None = None,
            revenue: float = 0.0) -> None:
        ledger.append(conn, org_id=org_id, document_id=doc["id"], action=action, activity_type=kind, actor=user_id,
                      details=details, extra_data=extra, revenue_impact=revenue, timestamp=now)

    add("REGISTER_ASSET", "origination", "Document registered as digital asset",
        {"title": title, "asset_type": asset_type})
    add("DECLARE_OWNER", "origination", f"Ownership declared by {user_id}", {"owner": user_id})
    if sharing_type == "firm":
        add("SHARE_WITH_FIRM", "sharing", "Document shared with firm")
    elif sharing_type == "external" and shared_emails:
        batch = new_id()
        for email in shared_emails:
            add("INVITE_PARTNER", "sharing", f"Sent access rights to {email}",
                {"shared_emails": [email], "batch_id": batch})
    elif sharing_type == "license":
        add("CREATE_LICENSE_OFFER", "licensing", f"License offer created with ${doc['license_fee']:g} fee",
            {"monthly_fee": doc["license_fee"], "licensed_emails": list(shared_emails)},
            doc["license_fee"] * max(len(shared_emails), 1) if doc["license_fee"] else 0.0)
    elif sharing_type == "coop":
        add("PUBLISH_TO_MARKETPLACE", "licensing", "Document published to the data co-op marketplace",
            {"license_template": "Data Co-op Standard"})
    return doc


def share(conn: Connection, *, org_id: str, document_id: str, action: str, activity_type: str, actor: str,
          details: str, extra_data: dict[str, Any], revenue_impact: float = 0.0) -> dict[str, Any]:
    """One sharing activity on an existing document."""
    return ledger.append(conn, org_id=org_id, document_id=document_id, action=action, activity_type=activity_type,
                         actor=actor, details=details, extra_data=extra_data, revenue_impact=revenue_impact)


def iso(ts: float) -> str:
    """Epoch seconds → ISO-8601 UTC (the sharing panels call new Date on these)."""
    return datetime.fromtimestamp(float(ts), timezone.utc).isoformat()


def sharing_state(activities_oldest_first: list[dict[str, Any]]) -> dict[str, Any]:
    """Firm share, external share batches, licences and marketplace listing, from the activities written."""
    firm: dict[str, Any] | None = None
    batches: dict[str, dict[str, Any]] = {}
    licenses: list[dict[str, Any]] = []
    market: dict[str, Any] | None = None
    for a in activities_oldest_first:
        if a["status"] != "success":
            continue
        extra = dict(a.get("extra_data") or {})
        who = a.get("actor_name") or a["actor"]
        action = a["action"]
        if action == "SHARE_WITH_FIRM" and firm is None:
            firm = {"shared_at": iso(a["timestamp"]), "actor": who, "details": a["details"], "extra_data": extra}
        elif action in ("INVITE_PARTNER", "SHARE_EXTERNAL"):
            batch_id = extra.get("batch_id") or a["id"]
            entry = batches.get(batch_id)
            if entry is None:
                entry = batches[batch_id] = {"shared_at": iso(a["timestamp"]), "actor": who, "details": a["details"],
                                             "extra_data": {**extra, "shared_emails": []}, "batch_id": batch_id}
            for email in extra.get("shared_emails") or []:
                if email not in entry["extra_data"]["shared_emails"]:
                    entry["extra_data"]["shared_emails"].append(email)
        elif action == "CREATE_LICENSE_OFFER":
            licenses.append({"created_at": iso(a["timestamp"]), "actor": who, "details": a["details"],
                             "extra_data": extra, "monthly_fee": extra.get("monthly_fee"),
                             "licensed_emails": extra.get("licensed_emails") or []})
        elif action in ("PUBLISH_TO_MARKETPLACE", "SHARE_MARKETPLACE"):
            market = {"shared_at": iso(a["timestamp"]), "actor": who, "details": a["details"], "extra_data": extra}
    external = sorted(batches.values(), key=lambda b: b["shared_at"], reverse=True)
    return {"firm_shared": firm is not None, "firm_share_details": firm, "external_shares": external,
            "licenses": list(reversed(licenses)), "marketplace_status": market}
