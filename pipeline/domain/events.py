"""Events: facts in the past tense, each with an id so consumers can be idempotent."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.domain.model import new_id

DOCUMENT_UPLOADED = "document.uploaded"
EXTRACTION_COMPLETED = "extraction.completed"
INDEX_UPDATED = "index.updated"
DOCUMENT_DELETED = "document.deleted"
EVENT_TYPES = (DOCUMENT_UPLOADED, EXTRACTION_COMPLETED, INDEX_UPDATED, DOCUMENT_DELETED)


@dataclass(frozen=True)
class Event:
    """A domain event as it travels through the outbox and the bus."""

    type: str
    org_id: str
    payload: dict[str, Any]
    id: str = field(default_factory=new_id)
    idempotency_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "type": self.type, "org_id": self.org_id, "payload": self.payload,
                "idempotency_key": self.idempotency_key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Event":
        """Inverse of to_dict; raises KeyError/ValueError on malformed input."""
        if d.get("type") not in EVENT_TYPES:
            raise ValueError(f"unknown event type {d.get('type')!r}")
        return cls(type=d["type"], org_id=str(d["org_id"]), payload=dict(d.get("payload") or {}),
                   id=str(d["id"]), idempotency_key=d.get("idempotency_key"))


def document_uploaded(org_id: str, document_id: str, content_hash: str) -> Event:
    """A document's bytes are stored and it waits for extraction."""
    return Event(DOCUMENT_UPLOADED, org_id, {"document_id": document_id, "content_hash": content_hash},
                 idempotency_key=f"{document_id}:{content_hash}")


def extraction_completed(org_id: str, document_id: str, version: int) -> Event:
    """A new extraction version was saved."""
    return Event(EXTRACTION_COMPLETED, org_id, {"document_id": document_id, "version": version},
                 idempotency_key=f"{document_id}:v{version}")


def document_deleted(org_id: str, document_id: str) -> Event:
    """A document and its rows are gone; vectors must follow."""
    return Event(DOCUMENT_DELETED, org_id, {"document_id": document_id}, idempotency_key=f"del:{document_id}")
