"""Pub/Sub event bus: one topic per event type, attributes for routing and deduplication, JSON data."""
from __future__ import annotations

import json
import logging
from typing import Any

from pipeline.domain.errors import PermanentError, TransientError
from pipeline.domain.events import DOCUMENT_DELETED, DOCUMENT_UPLOADED, EXTRACTION_COMPLETED, INDEX_UPDATED, Event

log = logging.getLogger(__name__)

TOPIC_SUFFIX = {
    DOCUMENT_UPLOADED: "document-uploaded",
    EXTRACTION_COMPLETED: "extraction-completed",
    INDEX_UPDATED: "index-updated",
    DOCUMENT_DELETED: "document-deleted",
}
DEAD_LETTER_SUFFIX = "dead-letter"


def topic_ids(prefix: str) -> list[str]:
    """Every topic Atlas uses, dead-letter included (Terraform declares the same list)."""
    return [f"{prefix}-{s}" for s in (*TOPIC_SUFFIX.values(), DEAD_LETTER_SUFFIX)]


TRACE_ATTR = "trace"  # Cloud Logging trace name (projects/<p>/traces/<id>) of the work that published the event


def message_attributes(event: Event, *, trace: str | None = None) -> dict[str, str]:
    """The attributes every Atlas message carries (Pub/Sub attributes are strings), plus the current trace."""
    attrs = {"event_type": event.type, "org_id": event.org_id, "event_id": event.id,
             "idempotency_key": event.idempotency_key or ""}
    if trace:
        attrs[TRACE_ATTR] = trace
    return attrs


def encode_event(event: Event) -> bytes:
    """The message data: the event as JSON."""
    return json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()


def decode_event(data: bytes, attributes: dict[str, str] | None = None) -> Event:
    """An event from message data; attributes, when given, must agree with it. Raises ValueError if malformed."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"message data is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError("message data is not a JSON object")
    try:
        event = Event.from_dict(body)
    except KeyError as exc:
        raise ValueError(f"event lacks {exc}") from exc
    for attr, value in (("event_type", event.type), ("event_id", event.id), ("org_id", event.org_id)):
        if attributes and attr in attributes and attributes[attr] != value:
            raise ValueError(f"attribute {attr} disagrees with the event body")
    return event


class PubSubEventBus:
    """Publishes events to `<prefix>-<event>` topics and waits for the server's acknowledgement."""

    def __init__(self, publisher: Any, project: str, prefix: str = "atlas", *, timeout_s: float = 30.0) -> None:
        self.publisher = publisher
        self.project = project
        self.prefix = prefix
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Any) -> "PubSubEventBus":
        """A bus for GOOGLE_CLOUD_PROJECT / ATLAS_PUBSUB_TOPIC_PREFIX (the emulator via PUBSUB_EMULATOR_HOST)."""
        from google.cloud import pubsub_v1

        if not settings.gcp_project:
            raise ValueError("GOOGLE_CLOUD_PROJECT must be set for ATLAS_RUNTIME=gcp")
        return cls(pubsub_v1.PublisherClient(), settings.gcp_project, settings.pubsub_topic_prefix)

    def topic_path(self, event_type: str) -> str:
        """The full topic name for an event type."""
        suffix = TOPIC_SUFFIX.get(event_type)
        if suffix is None:
            raise PermanentError(f"no topic for event type {event_type!r}")
        return f"projects/{self.project}/topics/{self.prefix}-{suffix}"

    def publish(self, event: Event) -> None:
        """Publish one event and wait until Pub/Sub has it; TransientError otherwise."""
        from google.api_core import exceptions as gexc

        from pipeline.logging_setup import trace_var

        topic = self.topic_path(event.type)
        attrs = message_attributes(event, trace=trace_var.get())
        try:
            message_id = self.publisher.publish(topic, encode_event(event), **attrs).result(
                timeout=self.timeout_s)
        except (gexc.GoogleAPICallError, gexc.RetryError, TimeoutError) as exc:
            if isinstance(exc, (gexc.NotFound, gexc.PermissionDenied, gexc.InvalidArgument)):
                # a missing topic or a revoked role needs an operator; the outbox keeps the event meanwhile
                log.error("publish refused", extra={"event_id": event.id, "topic": topic,
                                                    "error": type(exc).__name__})
            raise TransientError(f"publish to {topic} failed: {type(exc).__name__}") from exc
        log.info("event published", extra={"event_id": event.id, "event_type": event.type,
                                            "tenant_id": event.org_id, "message_id": message_id})

    def ensure_topics(self) -> list[str]:
        """Create any missing topic (emulator and tests; Terraform owns them in the cloud)."""
        from google.api_core import exceptions as gexc

        created = []
        for tid in topic_ids(self.prefix):
            path = f"projects/{self.project}/topics/{tid}"
            try:
                self.publisher.create_topic(name=path)
                created.append(path)
            except gexc.AlreadyExists:
                continue
        return created

    def check(self) -> None:
        """Readiness: the document-uploaded topic exists."""
        self.publisher.get_topic(topic=self.topic_path(DOCUMENT_UPLOADED), timeout=self.timeout_s)
