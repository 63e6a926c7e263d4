"""Webhooks and their deliveries on SQLAlchemy (SQLite embedded, Postgres in the cloud)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from pipeline.adapters import sql_tables as t
from pipeline.domain.errors import NotFound
from pipeline.domain.model import new_id, utcnow
from pipeline.domain.webhooks import Delivery, Webhook


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def _hook(r: Row) -> Webhook:
    return Webhook(id=r.id, org_id=r.org_id, url=r.url, secret=r.secret, events=list(r.events),
                   created_at=_aware(r.created_at))  # type: ignore[arg-type]


def _delivery(r: Row) -> Delivery:
    return Delivery(id=r.id, webhook_id=r.webhook_id, org_id=r.org_id, event_id=r.event_id,
                    event_type=r.event_type, payload=dict(r.payload), status=r.status, attempts=r.attempts,
                    next_attempt_at=_aware(r.next_attempt_at),  # type: ignore[arg-type]
                    last_status_code=r.last_status_code, last_error=r.last_error,
                    created_at=_aware(r.created_at), delivered_at=_aware(r.delivered_at))  # type: ignore[arg-type]


class SqlWebhooks:
    """The webhook repository over one connection (one unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, hook: Webhook) -> None:
        """Store a new webhook."""
        self.conn.execute(insert(t.webhooks).values(id=hook.id, org_id=hook.org_id, url=hook.url,
                                                    secret=hook.secret, events=hook.events,
                                                    created_at=hook.created_at))

    def list(self, org_id: str) -> list[Webhook]:
        """The organisation's webhooks, oldest first."""
        q = select(t.webhooks).where(t.webhooks.c.org_id == org_id).order_by(t.webhooks.c.created_at)
        return [_hook(r) for r in self.conn.execute(q)]

    def get(self, org_id: str, hook_id: str) -> Webhook:
        """One webhook of the organisation, or NotFound."""
        r = self.conn.execute(select(t.webhooks).where(t.webhooks.c.org_id == org_id,
                                                       t.webhooks.c.id == hook_id)).first()
        if r is None:
            raise NotFound(f"webhook {hook_id} not found")
        return _hook(r)

    def delete(self, org_id: str, hook_id: str) -> None:
        """Remove a webhook and its delivery log."""
        self.get(org_id, hook_id)
        self.conn.execute(delete(t.webhook_deliveries).where(t.webhook_deliveries.c.webhook_id == hook_id))
        self.conn.execute(delete(t.webhooks).where(t.webhooks.c.id == hook_id))

    def enqueue(self, org_id: str, event_type: str, payload: dict[str, Any]) -> int:
        """A pending delivery for each of the organisation's webhooks that wants this event; returns the count."""
        event_id = new_id()
        n = 0
        for hook in self.list(org_id):
            if event_type in hook.events:
                now = utcnow()
                self.conn.execute(insert(t.webhook_deliveries).values(
                    id=new_id(), webhook_id=hook.id, org_id=org_id, event_id=event_id, event_type=event_type,
                    payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now))
                n += 1
        return n

    def claim_due(self, limit: int, *, lease_s: float) -> list[tuple[Delivery, Webhook]]:
        """Pending deliveries whose time has come, claimed for lease_s so two senders never send one twice."""
        now = utcnow()
        d = t.webhook_deliveries
        rows = self.conn.execute(select(d).where(
            d.c.status == "pending", d.c.next_attempt_at <= now,
            or_(d.c.claimed_until.is_(None), d.c.claimed_until < now)).order_by(d.c.next_attempt_at).limit(limit)).all()
        out = []
        for r in rows:
            taken = self.conn.execute(update(d).where(
                d.c.id == r.id, or_(d.c.claimed_until.is_(None), d.c.claimed_until < now)).values(
                claimed_until=now + timedelta(seconds=lease_s))).rowcount
            if taken:
                hook = self.conn.execute(select(t.webhooks).where(t.webhooks.c.id == r.webhook_id)).first()
                if hook is not None:
                    out.append((_delivery(r), _hook(hook)))
        return out

    def record(self, delivery: Delivery) -> None:
        """Store the outcome of an attempt and release the claim."""
        self.conn.execute(update(t.webhook_deliveries).where(t.webhook_deliveries.c.id == delivery.id).values(
            status=delivery.status, attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code, last_error=delivery.last_error,
            delivered_at=delivery.delivered_at, claimed_until=None))

    def deliveries(self, org_id: str, hook_id: str, *, limit: int) -> list[Delivery]:
        """The webhook's delivery log, newest first."""
        self.get(org_id, hook_id)
        d = t.webhook_deliveries
        q = select(d).where(and_(d.c.org_id == org_id, d.c.webhook_id == hook_id)).order_by(
            d.c.created_at.desc()).limit(limit)
        return [_delivery(r) for r in self.conn.execute(q)]
