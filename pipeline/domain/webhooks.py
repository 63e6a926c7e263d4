"""Webhooks of an organisation and the deliveries of events to them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.domain.model import utcnow

DOCUMENT_READY = "document.ready"
DOCUMENT_FAILED = "document.failed"
WEBHOOK_EVENTS = (DOCUMENT_READY, DOCUMENT_FAILED)
SIGNATURE_HEADER = "Atlas-Signature"
MAX_ATTEMPTS = 8
MAX_HOOKS_PER_ORG = 20


@dataclass
class Webhook:
    """An endpoint of one organisation and the events it wants."""

    id: str
    org_id: str
    url: str
    secret: str
    events: list[str]
    created_at: datetime = field(default_factory=utcnow)

    def to_dict(self, *, with_secret: bool = False) -> dict[str, Any]:
        """JSON form; the secret only once, when the webhook is created."""
        d = {"id": self.id, "url": self.url, "events": self.events, "created_at": self.created_at.isoformat()}
        if with_secret:
            d["secret"] = self.secret
        return d


@dataclass
class Delivery:
    """One event for one webhook: pending until delivered or given up on (failed)."""

    id: str
    webhook_id: str
    org_id: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = field(default_factory=utcnow)
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    delivered_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the delivery log."""
        return {"id": self.id, "event_id": self.event_id, "event_type": self.event_type, "status": self.status,
                "attempts": self.attempts, "next_attempt_at": self.next_attempt_at.isoformat(),
                "last_status_code": self.last_status_code, "last_error": self.last_error,
                "created_at": self.created_at.isoformat(),
                "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
                "payload": self.payload}
