"""PubSubEventBus and the outbox relay against the real Pub/Sub emulator (and a failing bus for the relay)."""
from __future__ import annotations

import time
import uuid

import pytest

from pipeline.adapters.pubsub_bus import PubSubEventBus, decode_event, encode_event, topic_ids
from pipeline.domain.errors import TransientError
from pipeline.domain.events import DOCUMENT_UPLOADED, Event, document_uploaded, extraction_completed
from pipeline.relay import relay_outbox, relay_queue

PROJECT = "atlas-test"


def _pull(sub, subscription: str, want: int, timeout_s: float = 20.0) -> list:  # type: ignore[no-untyped-def]
    got: list = []
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        resp = sub.pull(subscription=subscription, max_messages=10, timeout=5)
        if resp.received_messages:
            sub.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in resp.received_messages])
            got.extend(resp.received_messages)
    return got


@pytest.fixture()
def bus_and_subs(pubsub_env: str):  # type: ignore[no-untyped-def]
    """A bus with a unique topic prefix, its topics, and one subscription per topic."""
    from google.cloud import pubsub_v1

    prefix = f"t{uuid.uuid4().hex[:8]}"
    bus = PubSubEventBus(pubsub_v1.PublisherClient(), PROJECT, prefix, timeout_s=10)
    assert len(bus.ensure_topics()) == len(topic_ids(prefix))
    assert bus.ensure_topics() == []  # idempotent
    sub = pubsub_v1.SubscriberClient()
    subs = {}
    for tid in topic_ids(prefix):
        name = f"projects/{PROJECT}/subscriptions/{tid}-sub"
        sub.create_subscription(name=name, topic=f"projects/{PROJECT}/topics/{tid}")
        subs[tid] = name
    return bus, sub, subs, prefix


def test_publish_pull_round_trip_carries_attributes(bus_and_subs) -> None:  # type: ignore[no-untyped-def]
    bus, sub, subs, prefix = bus_and_subs
    ev = document_uploaded("org-1", "doc-1", "a" * 64)
    bus.publish(ev)
    bus.check()
    [msg] = _pull(sub, subs[f"{prefix}-document-uploaded"], 1)
    attrs = dict(msg.message.attributes)
    assert attrs == {"event_type": DOCUMENT_UPLOADED, "org_id": "org-1", "event_id": ev.id,
                     "idempotency_key": f"doc-1:{'a' * 64}"}
    assert decode_event(msg.message.data, attrs) == ev
    assert _pull(sub, subs[f"{prefix}-extraction-completed"], 1, timeout_s=1) == []


def test_publish_to_a_missing_topic_is_transient(pubsub_env: str) -> None:
    from google.cloud import pubsub_v1

    bus = PubSubEventBus(pubsub_v1.PublisherClient(), PROJECT, f"missing{uuid.uuid4().hex[:6]}", timeout_s=5)
    with pytest.raises(TransientError):
        bus.publish(document_uploaded("o", "d", "b" * 64))


def test_decode_rejects_malformed_and_disagreeing_messages() -> None:
    ev = extraction_completed("org", "doc", 2)
    with pytest.raises(ValueError):
        decode_event(b"not json")
    with pytest.raises(ValueError):
        decode_event(b'{"type": "document.uploaded"}')
    with pytest.raises(ValueError):
        decode_event(encode_event(ev), {"event_id": "other"})
    assert decode_event(encode_event(ev), {"event_id": ev.id}) == ev


# --- outbox relay --------------------------------------------------------------------------------------------

class FlakyBus:
    """Fails the first `failures` publishes with TransientError, then records events."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("bus down")
        self.published.append(event)


@pytest.fixture()
def sqlite_engine(tmp_path):  # type: ignore[no-untyped-def]
    from pipeline.adapters.sql_engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'relay.db'}")
    migrate(engine)
    return engine


def _add_events(engine, events) -> None:  # type: ignore[no-untyped-def]
    from pipeline.adapters.sql_uow import SqlUnitOfWork

    with SqlUnitOfWork(engine) as uow:
        for ev in events:
            uow.outbox.add(ev)
        uow.commit()


def test_relay_publishes_in_order_and_marks_done(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    events = [document_uploaded("o", f"d{i}", "c" * 64) for i in range(3)]
    _add_events(sqlite_engine, events)
    bus = FlakyBus(failures=1)  # one transient failure is absorbed by the in-process retry
    result = relay_outbox(relay_queue(sqlite_engine), bus, backoff_s=0.01)
    assert (result.published, result.deferred) == (3, 0)
    assert [e.id for e in bus.published] == [e.id for e in events]
    assert relay_queue(sqlite_engine).depth() == {"done": 3}
    assert relay_outbox(relay_queue(sqlite_engine), bus).published == 0


def test_relay_never_loses_an_event_when_the_bus_is_down(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    ev = document_uploaded("o", "d", "c" * 64)
    _add_events(sqlite_engine, [ev])
    down = FlakyBus(failures=10_000)
    for _ in range(8):  # more passes than SqlEventQueue's default dead-letter threshold
        result = relay_outbox(relay_queue(sqlite_engine), down, publish_attempts=2, backoff_s=0.0, retry_in_s=0.0)
        assert result.deferred == 1
    assert relay_queue(sqlite_engine).depth() == {"pending": 1}
    up = FlakyBus(failures=0)
    assert relay_outbox(relay_queue(sqlite_engine), up).published == 1
    assert [e.id for e in up.published] == [ev.id]


def test_relay_to_the_emulator_delivers_each_outbox_row(bus_and_subs, sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    bus, sub, subs, prefix = bus_and_subs
    events = [document_uploaded("o", "d1", "e" * 64), extraction_completed("o", "d1", 1)]
    _add_events(sqlite_engine, events)
    assert relay_outbox(relay_queue(sqlite_engine), bus).published == 2
    [up] = _pull(sub, subs[f"{prefix}-document-uploaded"], 1)
    [done] = _pull(sub, subs[f"{prefix}-extraction-completed"], 1)
    assert up.message.attributes["event_id"] == events[0].id
    assert done.message.attributes["event_id"] == events[1].id
