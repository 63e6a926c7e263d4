"""Outbox relay: publish committed events to the bus and mark them done; a failed publish leaves them pending."""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from tenacity import RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential
from tenacity import Retrying

from pipeline.domain.errors import TransientError
from pipeline.ports import EventBus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayResult:
    """What one relay pass did."""

    published: int
    deferred: int


def relay_queue(engine: Any) -> Any:
    """The outbox read by the relay: never dead-letters (an unpublished event must stay in the table)."""
    from pipeline.adapters.sql_uow import SqlEventQueue

    return SqlEventQueue(engine, lease_s=120.0, max_attempts=sys.maxsize)


def relay_outbox(queue: Any, bus: EventBus, *, batch: int = 50, max_events: int = 1000,
                 publish_attempts: int = 3, backoff_s: float = 0.2, retry_in_s: float = 30.0) -> RelayResult:
    """Publish due outbox events (bounded retries with backoff each); unpublished ones go back with a delay."""
    published = deferred = 0
    while published + deferred < max_events:
        claimed = queue.claim(limit=min(batch, max_events - published - deferred))
        if not claimed:
            break
        for seq, event, attempt in claimed:
            try:
                for tried in Retrying(stop=stop_after_attempt(publish_attempts), reraise=False,
                                      wait=wait_exponential(multiplier=backoff_s, max=5.0),
                                      retry=retry_if_exception_type(TransientError)):
                    with tried:
                        bus.publish(event)
            except (RetryError, TransientError) as exc:
                cause = exc.last_attempt.exception() if isinstance(exc, RetryError) else exc
                queue.nack(seq, f"publish failed: {cause}", retry_in_s=retry_in_s)
                log.warning("event not published; kept in the outbox", extra={
                    "event_id": event.id, "event_type": event.type, "attempt": attempt})
                deferred += 1
                continue
            queue.ack(seq)
            published += 1
        if deferred:
            break  # the bus is failing: leave the rest for the next pass
    if published or deferred:
        log.info("outbox relayed", extra={"published": published, "deferred": deferred})
    return RelayResult(published=published, deferred=deferred)
