"""JSON of the legacy records: DocumentRecord and Activity (epoch-second floats, `type` plus `activity_type`)."""
from __future__ import annotations

from datetime import timezone
from typing import Any


def activity_json(a: dict[str, Any]) -> dict[str, Any]:
    """One activity as every legacy route returns it."""
    return {"id": a["id"], "action": a["action"], "timestamp": float(a["timestamp"]), "actor": a["actor"],
            "actor_name": a.get("actor_name"), "type": a["activity_type"], "activity_type": a["activity_type"],
            "status": a["status"], "details": a["details"] or "", "tx_hash": a["tx_hash"],
            "prev_hash": a["prev_hash"], "block_number": a["block_number"], "gas_used": a["gas_used"],
            "revenue_impact": float(a["revenue_impact"] or 0.0), "extra_data": a.get("extra_data") or {}}


def document_json(doc: dict[str, Any], activities: list[dict[str, Any]], *,
                  with_revenue: bool = True) -> dict[str, Any]:
    """A DocumentRecord (no updated_at, as in the legacy backend)."""
    out = {"id": doc["id"], "title": doc["title"], "file_path": doc["file_path"], "user_id": doc["user_id"],
           "sharing_type": doc["sharing_type"], "shared_emails": doc["shared_emails"] or [],
           "license_fee": float(doc["license_fee"] or 0.0), "extracted_data": doc["extracted_data"],
           "risk_flags": doc["risk_flags"], "asset_type": doc["asset_type"],
           "activities": [activity_json(a) for a in activities], "created_at": float(doc["created_at"]),
           "status": doc["status"], "ownership_type": doc["ownership_type"]}
    if with_revenue:
        out["revenue_generated"] = float(doc["revenue_generated"] or 0.0)
    return out


def user_json(u: dict[str, Any]) -> dict[str, Any]:
    """The user object of /sync-user."""
    created = u.get("created_at")
    if created is not None and created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=timezone.utc)
    return {"id": u["id"], "email": u["email"], "name": u.get("name"),
            "created_at": created.isoformat() if created is not None else None}
