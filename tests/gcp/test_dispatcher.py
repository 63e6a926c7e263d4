"""The dispatcher's ack contract and routing, with fakes for Cloud Run and the processed-event table."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cloudevents.http import CloudEvent

import jobs.dispatcher as dispatcher
from pipeline.adapters.cloudrun_jobs import CloudRunJobs
from pipeline.adapters.pubsub_bus import encode_event, message_attributes
from pipeline.domain.errors import PermanentError, TransientError
from pipeline.domain.events import Event, document_uploaded, extraction_completed

DOC = "0b7c5a1e-2f4d-4c6b-9a8e-1d2c3b4a5f60"


class FakeProcessed:
    def __init__(self) -> None:
        self.done: set[tuple[str, str]] = set()

    def was_processed(self, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.done

    def mark_processed(self, consumer: str, event_id: str) -> bool:
        new = (consumer, event_id) not in self.done
        self.done.add((consumer, event_id))
        return new


class Recorder:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.runs: list[tuple[str, list[str]]] = []
        self.failures = failures or []
        self.completed: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.relayed = 0

    def run_job(self, job: str, args: list[str]) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.runs.append((job, args))
        return f"projects/p/locations/r/jobs/{job}/executions/{job}-{len(self.runs)}"


@pytest.fixture()
def rec(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    r = Recorder()
    deps = dispatcher.Dispatch(run_job=lambda j, a: r.run_job(j, a), queue=FakeProcessed(),
                               extract_job="atlas-extract", index_job="atlas-index",
                               complete_staged_upload=r.completed.append,
                               fail_document=lambda d, reason: r.failed.append((d, reason)),
                               relay=lambda: setattr(r, "relayed", r.relayed + 1))
    monkeypatch.setattr(dispatcher, "_deps", lambda: deps)
    return r


def pubsub_cloud_event(data: bytes, attributes: dict[str, str], topic: str = "atlas-document-uploaded") -> CloudEvent:
    envelope = {"message": {"data": base64.b64encode(data).decode(), "attributes": attributes, "messageId": "1"},
                "subscription": f"projects/p/subscriptions/{topic}-dispatch"}
    return CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished",
                       "source": f"//pubsub.googleapis.com/projects/p/topics/{topic}"}, envelope)


def event_ce(ev: Event, **extra_attrs: str) -> CloudEvent:
    return pubsub_cloud_event(encode_event(ev), {**message_attributes(ev), **extra_attrs})


def test_uploaded_event_starts_one_extract_execution_and_duplicates_are_acked(rec: Recorder) -> None:
    ev = document_uploaded("org", DOC, "a" * 64)
    dispatcher.dispatch(event_ce(ev))
    dispatcher.dispatch(event_ce(ev))  # Pub/Sub redelivery
    assert rec.runs == [("atlas-extract", [DOC])]


def test_extraction_completed_starts_the_index_job(rec: Recorder) -> None:
    from pipeline.domain.events import document_deleted

    dispatcher.dispatch(event_ce(extraction_completed("org", DOC, 1)))
    dispatcher.dispatch(event_ce(document_deleted("org", DOC)))
    assert rec.runs == [("atlas-index", [f"index:org:{DOC}"]), ("atlas-index", [f"delete:org:{DOC}"])]


def test_index_updated_is_acknowledged_without_a_job(rec: Recorder) -> None:
    dispatcher.dispatch(event_ce(Event("index.updated", "org", {"generation": 3})))
    assert rec.runs == []


@pytest.mark.parametrize("data,attrs", [
    (b"\xff not json", {}),
    (json.dumps({"type": "no.such", "id": "1", "org_id": "o"}).encode(), {}),
    (json.dumps({"type": "document.uploaded", "id": "1", "org_id": "o", "payload": {}}).encode(), {}),
])
def test_malformed_messages_are_acknowledged_not_retried(rec: Recorder, data: bytes, attrs: dict) -> None:
    dispatcher.dispatch(pubsub_cloud_event(data, attrs))  # returns: acked
    assert rec.runs == []


def test_envelope_without_message_is_acknowledged(rec: Recorder) -> None:
    ce = CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//x"}, {"nope": 1})
    dispatcher.dispatch(ce)
    assert rec.runs == []


def test_transient_cloud_run_failure_nacks_and_the_redelivery_runs(rec: Recorder) -> None:
    rec.failures.append(TransientError("503"))
    ev = document_uploaded("org", DOC, "a" * 64)
    with pytest.raises(TransientError):
        dispatcher.dispatch(event_ce(ev))
    dispatcher.dispatch(event_ce(ev))
    assert rec.runs == [("atlas-extract", [DOC])]


def test_permanent_cloud_run_failure_acks_and_fails_the_document(rec: Recorder) -> None:
    rec.failures.append(PermanentError("bad request"))
    dispatcher.dispatch(event_ce(document_uploaded("org", DOC, "a" * 64)))
    assert rec.runs == []
    assert rec.failed and rec.failed[0][0] == DOC


def test_dead_lettered_upload_ends_the_document_failed(rec: Recorder) -> None:
    ev = document_uploaded("org", DOC, "a" * 64)
    dispatcher.dispatch(event_ce(ev, CloudPubSubDeadLetterSourceDeliveryCount="5"))
    assert rec.runs == []
    assert [d for d, _ in rec.failed] == [DOC]


def test_storage_finalize_completes_staged_uploads_only(rec: Recorder) -> None:
    for name in (f"uploads/{DOC}", "sha256/aa/" + "a" * 64):
        dispatcher.dispatch(CloudEvent({"type": dispatcher.STORAGE_FINALIZED, "source": "//storage/b"},
                                       {"bucket": "b", "name": name}))
    notif = pubsub_cloud_event(b"{}", {"eventType": "OBJECT_FINALIZE", "objectId": f"uploads/{DOC}",
                                       "bucketId": "b"}, topic="atlas-uploads")
    dispatcher.dispatch(notif)
    assert rec.completed == [f"uploads/{DOC}", f"uploads/{DOC}"]
    assert rec.relayed == 2


class FailingJobsClient:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def run_job(self, **_: Any) -> Any:
        raise self.exc


def test_cloud_run_errors_are_classified() -> None:
    from google.api_core import exceptions as gexc

    with pytest.raises(TransientError):
        CloudRunJobs(FailingJobsClient(gexc.ServiceUnavailable("down")), "p", "r").run("j", ["d"])
    with pytest.raises(TransientError):
        CloudRunJobs(FailingJobsClient(gexc.TooManyRequests("quota")), "p", "r").run("j", ["d"])
    with pytest.raises(PermanentError):
        CloudRunJobs(FailingJobsClient(gexc.InvalidArgument("bad")), "p", "r").run("j", ["d"])


def test_a_messages_trace_is_adopted_for_it_and_does_not_leak_to_the_next(rec: Recorder) -> None:
    from pipeline.logging_setup import trace_var

    seen: list[str | None] = []
    original = rec.run_job
    rec.run_job = lambda job, args: seen.append(trace_var.get()) or original(job, args)  # type: ignore[method-assign]
    trace = "projects/p/traces/0123456789abcdef0123456789abcdef"
    dispatcher.dispatch(event_ce(document_uploaded("org", DOC, "a" * 64), trace=trace))
    dispatcher.dispatch(event_ce(document_uploaded("org", DOC.replace("0b", "1b"), "b" * 64)))
    assert seen == [trace, None]
    assert trace_var.get() is None
    dispatcher.dispatch(event_ce(document_uploaded("org", DOC.replace("0b", "2b"), "c" * 64), trace="not a trace"))
    assert seen[-1] is None  # only well-formed trace names are adopted
