"""End to end on local stand-ins for Google Cloud: API → Cloud Storage emulator → outbox relay → Pub/Sub emulator →
dispatcher → loopback Cloud Run → extract job subprocess → Postgres; then duplicate delivery and a killed task."""
from __future__ import annotations

import base64
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO.parent / "shared" / "devset" / "docs"
PROJECT = "atlas-test"

pytestmark = pytest.mark.gcp


class Stack:
    """Everything the flow needs, wired like production but on loopback."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def pull(self, topic_suffix: str, want: int = 1, timeout_s: float = 20.0) -> list:
        sub = f"projects/{PROJECT}/subscriptions/{self.prefix}-{topic_suffix}-dispatch"
        got: list = []
        deadline = time.monotonic() + timeout_s
        while len(got) < want and time.monotonic() < deadline:
            resp = self.subscriber.pull(subscription=sub, max_messages=10, timeout=5)
            got.extend(resp.received_messages)
        return got

    def deliver(self, received: Any, topic_suffix: str) -> str:
        """Push one pulled message through the dispatcher; ack on return, nack when it raises."""
        import jobs.dispatcher as dispatcher
        from cloudevents.http import CloudEvent

        sub = f"projects/{PROJECT}/subscriptions/{self.prefix}-{topic_suffix}-dispatch"
        m = received.message
        ce = CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished",
                         "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{self.prefix}-{topic_suffix}"},
                        {"message": {"data": base64.b64encode(m.data).decode(), "attributes": dict(m.attributes),
                                     "messageId": m.message_id}, "subscription": sub})
        try:
            dispatcher.dispatch(ce)
        except Exception:
            self.subscriber.modify_ack_deadline(subscription=sub, ack_ids=[received.ack_id], ack_deadline_seconds=0)
            return "nack"
        self.subscriber.acknowledge(subscription=sub, ack_ids=[received.ack_id])
        return "ack"

    def document(self, doc_id: str) -> tuple[Any, list[int]]:
        with self.svc.uow_factory() as uow:
            return uow.documents.get(self.org_id, doc_id), uow.extractions.versions(self.org_id, doc_id)


@pytest.fixture(scope="module")
def stack(pg_database: str, gcs_emulator: str, pubsub_emulator_host: str, module_fake_cloud_run,
          tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    leases = [DEVSET / "D034.txt", DEVSET / "D035.txt", DEVSET / "D036.txt"]
    if not all(p.exists() for p in leases):
        pytest.skip(f"devset text leases missing under {DEVSET}")
    from google.cloud import pubsub_v1
    from google.pubsub_v1.types import DeadLetterPolicy

    import jobs.dispatcher as dispatcher
    from api.app import create_app
    from jobs.wiring import dispatch_deps
    from pipeline.bootstrap import build
    from pipeline.keys import create_key
    from pipeline.settings import load_settings

    tmp = tmp_path_factory.mktemp("gcp-e2e")
    prefix = f"e2e{uuid.uuid4().hex[:6]}"
    bucket = f"atlas-e2e-{uuid.uuid4().hex[:8]}"
    env = {"ATLAS_RUNTIME": "gcp", "DATABASE_URL": pg_database, "ATLAS_GCS_BUCKET": bucket,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "ATLAS_PUBSUB_TOPIC_PREFIX": prefix, "ATLAS_DATA_DIR": str(tmp),
           "STORAGE_EMULATOR_HOST": gcs_emulator, "PUBSUB_EMULATOR_HOST": pubsub_emulator_host,
           "PYTHONPATH": str(REPO), "LOG_LEVEL": "INFO"}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    try:
        settings = load_settings()
        svc = build(settings)
        svc.blobs.client.create_bucket(bucket)
        svc.bus.ensure_topics()
        subscriber = pubsub_v1.SubscriberClient()
        for suffix in ("document-uploaded", "extraction-completed"):
            subscriber.create_subscription(request={
                "name": f"projects/{PROJECT}/subscriptions/{prefix}-{suffix}-dispatch",
                "topic": f"projects/{PROJECT}/topics/{prefix}-{suffix}", "ack_deadline_seconds": 30,
                "dead_letter_policy": DeadLetterPolicy(dead_letter_topic=f"projects/{PROJECT}/topics/{prefix}-dead-letter",
                                                       max_delivery_attempts=5)})
        subscriber.create_subscription(name=f"projects/{PROJECT}/subscriptions/{prefix}-dead-letter-dispatch",
                                       topic=f"projects/{PROJECT}/topics/{prefix}-dead-letter")
        org, api_key, _ = create_key("e2e-org", uow_factory=svc.uow_factory, pepper=settings.api_key_pepper)
        fake, jobs_client = module_fake_cloud_run(
            {"atlas-extract": [sys.executable, "-m", "jobs.extract"],
             "atlas-index": [sys.executable, "-m", "jobs.index"],
             "atlas-extract-stalling": [sys.executable, str(Path(__file__).with_name("slow_extract_job.py"))]},
            env)
        deps = dispatch_deps(svc, jobs_client=jobs_client)
        mp.setattr(dispatcher, "_deps", lambda: deps)
    except BaseException:
        mp.undo()
        raise
    app = create_app(svc)
    yield Stack(svc=svc, org_id=org.id, api_key=api_key, client=app.test_client(), fake=fake, prefix=prefix,
                bucket=bucket, subscriber=subscriber, leases=leases, env=env, jobs_client=jobs_client)
    mp.undo()
    svc.engine.dispose()


def _upload(stack: Stack, path: Path) -> str:
    resp = stack.client.post("/v1/documents", headers={"Authorization": f"Bearer {stack.api_key}"},
                             data={"file": (path.open("rb"), path.name)}, content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["id"]


def test_upload_flows_through_pubsub_and_a_cloud_run_job_to_a_ready_document(stack: Stack) -> None:
    import hashlib

    doc_id = _upload(stack, stack.leases[0])
    digest = hashlib.sha256(stack.leases[0].read_bytes()).hexdigest()
    names = [b.name for b in stack.svc.blobs.client.list_blobs(stack.bucket)]
    assert names == [f"sha256/{digest[:2]}/{digest}"]  # content-addressed; the file name appears nowhere
    assert stack.svc.queue.depth() == {"done": 1}  # the request relayed its outbox row

    [msg] = stack.pull("document-uploaded")
    assert msg.message.attributes["event_type"] == "document.uploaded"
    assert msg.message.attributes["org_id"] == stack.org_id
    assert stack.deliver(msg, "document-uploaded") == "ack"
    [execution] = stack.fake.executions
    assert (execution["job"], execution["args"]) == ("atlas-extract", [doc_id])
    [(code, out)] = stack.fake.wait(execution)
    assert code == 0, out
    doc, versions = stack.document(doc_id)
    assert (doc.status.value, versions) == ("ready", [1])
    assert doc.progress["stage"] == "extracted"
    assert '"document_id": "%s"' % doc_id in out and '"severity": "INFO"' in out

    # the job relayed extraction.completed; the dispatcher turns it into an index execution (the single writer)
    [done] = stack.pull("extraction-completed")
    assert done.message.attributes["event_type"] == "extraction.completed"
    assert stack.deliver(done, "extraction-completed") == "ack"
    index_exec = stack.fake.executions[-1]
    assert (index_exec["job"], index_exec["args"]) == ("atlas-index", [f"index:{stack.org_id}:{doc_id}"])
    [(code, out)] = stack.fake.wait(index_exec, timeout_s=180)
    assert code == 0, out
    answer = stack.client.post("/v1/query", headers={"Authorization": f"Bearer {stack.api_key}"},
                               json={"question": "Who is the tenant under the lease?"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["answer"] and "Sable Insurance Brokers" in body["answer"]
    assert body["sources"] and all(src["document_id"] == doc_id for src in body["sources"])
    assert all(src.get("page") for src in body["sources"])

    # duplicate delivery of the same event: acknowledged, no second execution
    assert stack.deliver(msg, "document-uploaded") == "ack"
    assert len(stack.fake.executions) == 2  # the extract and the index execution, nothing more
    # a duplicate execution anyway (e.g. a lost race): still exactly one extraction version
    from pipeline.adapters.cloudrun_jobs import CloudRunJobs

    runner = CloudRunJobs(stack.jobs_client, PROJECT, "europe-west1")
    runner.run("atlas-extract", [doc_id])
    assert [c for c, _ in stack.fake.wait(stack.fake.executions[-1])] == [0]
    assert stack.document(doc_id)[1] == [1]


def test_a_task_killed_mid_document_is_rerun_to_exactly_one_version(stack: Stack) -> None:
    from pipeline.adapters.cloudrun_jobs import CloudRunJobs

    doc_id = _upload(stack, stack.leases[1])
    [msg] = stack.pull("document-uploaded")
    runner = CloudRunJobs(stack.jobs_client, PROJECT, "europe-west1")
    runner.run("atlas-extract-stalling", [doc_id])  # the task that will die
    proc = stack.fake.executions[-1]["procs"][0]
    deadline = time.monotonic() + 60
    while stack.document(doc_id)[0].progress.get("stage") != "extracting":
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the job never reached extraction"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: the worst case
    proc.wait(10)
    doc, versions = stack.document(doc_id)
    assert (doc.status.value, versions) == ("processing", [])

    # Pub/Sub redelivers the (unacknowledged) message; the dispatcher starts a fresh execution
    assert stack.deliver(msg, "document-uploaded") == "ack"
    assert stack.fake.executions[-1]["job"] == "atlas-extract"
    [(code, out)] = stack.fake.wait(stack.fake.executions[-1])
    assert code == 0, out
    doc, versions = stack.document(doc_id)
    assert (doc.status.value, versions) == ("ready", [1])


def test_a_message_that_keeps_failing_is_dead_lettered_and_the_document_ends_failed(stack: Stack) -> None:
    doc_id = _upload(stack, stack.leases[2])
    started = len(stack.fake.executions)
    stack.fake.fail_next = [503] * 5  # Cloud Run unavailable for every attempt
    outcomes = []
    for _ in range(5):
        [msg] = stack.pull("document-uploaded")
        assert msg.delivery_attempt == len(outcomes) + 1
        outcomes.append(stack.deliver(msg, "document-uploaded"))
    assert outcomes == ["nack"] * 5
    assert stack.pull("document-uploaded", want=1, timeout_s=3) == []  # gone from the main subscription
    [dead] = stack.pull("dead-letter")
    assert dead.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert stack.deliver(dead, "dead-letter") == "ack"
    doc, versions = stack.document(doc_id)
    assert (doc.status.value, doc.error_code, versions) == ("failed", "dispatch_failed", [])
    assert len(stack.fake.executions) == started


def test_a_lost_upload_event_is_redriven_by_the_sweep(stack: Stack) -> None:
    from jobs.sweep_job import redrive_count, sweep
    from jobs.task import load_job_settings

    path = REPO / "tests" / "gcp" / "lost-lease.txt"
    data = stack.leases[0].read_text(encoding="utf-8").replace("Sable", "Umber")  # other bytes, same shape
    path.write_text(data, encoding="utf-8")
    try:
        doc_id = _upload(stack, path)
    finally:
        path.unlink()
    [lost] = stack.pull("document-uploaded")
    sub = f"projects/{PROJECT}/subscriptions/{stack.prefix}-document-uploaded-dispatch"
    stack.subscriber.acknowledge(subscription=sub, ack_ids=[lost.ack_id])  # acked, never dispatched: lost
    started = len(stack.fake.executions)

    result = sweep(stack.svc, load_job_settings(sweep_queued_after_s=0))
    assert (result.redriven, result.published) == (1, 1)
    [again] = stack.pull("document-uploaded")
    assert again.message.attributes["event_id"] != lost.message.attributes["event_id"]  # a fresh event
    assert stack.deliver(again, "document-uploaded") == "ack"
    [execution] = stack.fake.executions[started:]
    assert (execution["job"], execution["args"]) == ("atlas-extract", [doc_id])
    [(code, out)] = stack.fake.wait(execution)
    assert code == 0, out
    doc, versions = stack.document(doc_id)
    assert (doc.status.value, versions, redrive_count(doc.progress)) == ("ready", [1], 1)


def test_the_dead_letter_dispatch_subscription_is_the_one_terraform_creates(stack: Stack) -> None:
    from support.tfstack import _load

    doc = _load(REPO / "terraform" / "modules" / "pubsub" / "main.tf")
    subs = {name: body for block in doc["resource"] for name, body in block.get("google_pubsub_subscription", {}).items()}
    dead_letter_topic = next(b["dead_letter_topic"] for b in doc["locals"] if "dead_letter_topic" in b)
    assert dead_letter_topic == "${var.topic_prefix}-dead-letter"
    assert subs["dead_letter_dispatch"]["name"] == "${local.dead_letter_topic}-dispatch"
    # so Terraform's name for this flow's prefix is the subscription the dead-letter delivery above used
    names = [s.name for s in stack.subscriber.list_subscriptions(project=f"projects/{PROJECT}")]
    assert f"projects/{PROJECT}/subscriptions/{stack.prefix}-dead-letter-dispatch" in names
