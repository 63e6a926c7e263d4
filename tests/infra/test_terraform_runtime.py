"""Terraform's own settings, run for real: every service and job starts its actual entrypoint with exactly the
environment, secrets, command, volume, user and identity the stack declares, against local stand-ins
(gcp-storage-emulator, the Pub/Sub emulator jar, local Postgres behind a Cloud SQL connector shim, a recording
Cloud Run API). A variable Terraform forgets, a grant it lacks or a mount the process cannot use fails here.

Database: the migrate job runs as an owner role; every other component logs in as its own throwaway role holding
only what the migrate job granted. Roles and the database are dropped afterwards.
"""
from __future__ import annotations

import base64
import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from support.emulators import RecordingCloudRun, free_port, pubsub_emulator, wait_for_port
from support.postgres import PG_ADMIN_URL, PG_SERVER_URL
from support.tfstack import REPO, Evaluator, Stack, components, dockerfile_cmd, dockerfile_user, is_root

pytestmark = [pytest.mark.gcp, pytest.mark.postgres]

PROJECT = "atlas-test"
INSTANCE = f"{PROJECT}:europe-west1:atlas"
SHIM = REPO / "tests" / "support" / "cloud_shim"
DEVSET = REPO.parent / "shared" / "devset" / "docs"
BIN = Path(sys.executable).parent
# Values Cloud Run resolves from Secret Manager into the environment.
SECRET_VALUES = {"openai_api_key": "sk-test-not-used", "index_server_key": secrets.token_urlsafe(24),
                 "api_key_pepper": secrets.token_urlsafe(24)}
# What the images' ENV lines set for every process (Dockerfile.api / Dockerfile.jobs).
IMAGE_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1",
             "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown"]
TRACE = f"projects/{PROJECT}/traces/{'4bf92f3577b34da6a3ce929d0e0e4736'}"
IMAGE_OF = {"api": ("Dockerfile.api", None), "dispatcher": ("Dockerfile.jobs", None),
            "extract": ("Dockerfile.jobs", None), "index": ("Dockerfile.jobs", "index"),
            "sweep": ("Dockerfile.jobs", None), "migrate": ("Dockerfile.jobs", None)}


@dataclass
class World:
    """The stand-ins, the evaluated stack and what the runs observed."""

    tmp: Path
    ev: Evaluator
    comps: dict[str, Any]
    roles: dict[str, str]
    db_name: str
    owner_url: str
    bucket: str
    gcs: str
    pubsub: str
    cloud_run: RecordingCloudRun
    cloud_run_url: str
    mount: Path
    subscriber: Any
    published: dict[str, list[Any]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Exactly Terraform's environment for the component, plus the stand-ins' addresses."""
        comp = self.comps[name]
        env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               **{k: v for k, v in os.environ.items() if k in ("HF_HOME", "TMPDIR")}, **IMAGE_ENV,
               **comp.env, **{k: SECRET_VALUES[v] for k, v in comp.secret_env.items()},
               "STORAGE_EMULATOR_HOST": self.gcs, "PUBSUB_EMULATOR_HOST": self.pubsub,
               "ATLAS_TEST_CLOUDSQL_INSTANCE": INSTANCE, "ATLAS_TEST_CLOUD_RUN_ENDPOINT": self.cloud_run_url,
               "PYTHONPATH": f"{SHIM}:{REPO}"}
        return {**env, **(extra or {})}

    def prefix(self, name: str) -> list[str]:
        """Run as the image's user: a non-root USER may not override file permissions."""
        dockerfile, target = IMAGE_OF[name]
        return [] if is_root(dockerfile_user(REPO / dockerfile, target)) else UNPRIVILEGED

    def run_job(self, name: str, args: list[str], timeout_s: float = 240,
                extra: dict[str, str] | None = None) -> tuple[int, str]:
        """One task of a job, with the Cloud Run task variables, in its own working directory."""
        comp = self.comps[name]
        cwd = self.tmp / f"cwd-{name}"
        cwd.mkdir(exist_ok=True)
        execution = f"{comp.args['name'] if isinstance(comp.args.get('name'), str) else name}-{uuid.uuid4().hex[:5]}"
        env = self.env(name, {"CLOUD_RUN_JOB": name, "CLOUD_RUN_EXECUTION": execution, "CLOUD_RUN_TASK_INDEX": "0",
                              "CLOUD_RUN_TASK_COUNT": "1", "CLOUD_RUN_TASK_ATTEMPT": "0", **(extra or {})})
        argv = self.prefix(name) + comp.argv(sys.executable, str(BIN / "functions-framework")) + args
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
        return proc.returncode, proc.stdout + proc.stderr

    def drain(self) -> dict[str, list[Any]]:
        """Messages published since the last drain, by topic suffix."""
        got: dict[str, list[Any]] = {}
        for topic in self.state["topics"]:
            sub = f"projects/{PROJECT}/subscriptions/observe-{topic}"
            while True:
                resp = self.subscriber.pull(subscription=sub, max_messages=50, timeout=5, return_immediately=True)
                if not resp.received_messages:
                    break
                got.setdefault(topic, []).extend(m.message for m in resp.received_messages)
                self.subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in resp.received_messages])
        return got

    def owner_engine(self) -> Any:
        from pipeline.adapters.sql_engine import make_engine

        return make_engine(self.owner_url, pool_size=1)


def _sql_admin(statements: list[str]) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for stmt in statements:
                conn.execute(text(stmt))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server_mod = pytest.importorskip("gcp_storage_emulator.server", reason="gcp-storage-emulator is not installed")
    try:
        _sql_admin(["SELECT 1"])
    except Exception as exc:
        pytest.skip(f"Postgres not reachable at 127.0.0.1:5432 ({type(exc).__name__})")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import pubsub_v1, storage

    tmp = tmp_path_factory.mktemp("tf-runtime")
    stack = Stack()
    suffix = uuid.uuid4().hex[:8]
    db_name = f"atlas_tf_{suffix}"
    db_users = stack.modules["database"]["iam_service_accounts"]
    # Cloud SQL names a service account's database user <account>@<project>.iam
    roles = {k: f"atlas-{k}-{suffix}@{PROJECT}.iam" for k in db_users}
    owner = roles.get("migrate")
    if owner is None:
        pytest.fail("the stack declares no database user for the migrate job (the schema owner)")
    mount = tmp / "mnt" / "chroma"
    mount.mkdir(parents=True)
    os.chown(mount, 65534, 65534)  # a fresh Filestore share: owned by someone else, rwxr-xr-x
    mount.chmod(0o755)
    bucket = f"atlas-tf-{suffix}"
    gcs_port = free_port()
    gcs_server = server_mod.create_server("127.0.0.1", gcs_port, in_memory=True)
    gcs_server.start()
    cloud_run = RecordingCloudRun({stack.locals["extract_job_name"], stack.locals["index_job_name"],
                                   stack.locals["sweep_job_name"]})
    created_roles: list[str] = []
    try:
        for k, role in roles.items():
            _sql_admin([f'CREATE ROLE "{role}" LOGIN'])
            created_roles.append(role)
        _sql_admin([f'CREATE DATABASE "{db_name}" OWNER "{owner}"'])
        with pubsub_emulator(tmp) as pubsub_host:
            os.environ["PUBSUB_EMULATOR_HOST"] = pubsub_host
            gcs = f"http://127.0.0.1:{gcs_port}"
            storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": gcs}).create_bucket(bucket)
            outputs = {
                "module.storage.bucket_name": bucket,
                "module.database.connection_name": INSTANCE,
                "module.database.database_name": db_name,
                "module.database.iam_users": roles,
                "module.secrets.secret_ids": {k: f"secret:{k}" for k in stack.locals["secret_ids"]},
                "module.filestore.server": "10.0.0.2", "module.filestore.export_path": "/chroma",
                "module.iam.members": {k: f"sa:{k}" for k in stack.modules["iam"]["service_accounts"]},
                "module.iam.job_runner_role": "job_runner",
            }
            stack.locals["chroma_mount_path"] = str(mount)  # the volume is mounted where the env says
            ev = Evaluator(stack, {"project_id": PROJECT, "environment": "staging",
                                   "cors_origins": ["https://app.example.test"]}, outputs)
            publisher = pubsub_v1.PublisherClient()
            subscriber = pubsub_v1.SubscriberClient()
            pubsub_args = stack.modules["pubsub"]
            prefix = ev.value(pubsub_args["topic_prefix"])
            topics = list(ev.value(pubsub_args["event_topics"])) + ["dead-letter"]
            for t in topics:
                publisher.create_topic(name=f"projects/{PROJECT}/topics/{prefix}-{t}")
                subscriber.create_subscription(name=f"projects/{PROJECT}/subscriptions/observe-{t}",
                                               topic=f"projects/{PROJECT}/topics/{prefix}-{t}")
            url = cloud_run.start()
            w = World(tmp=tmp, ev=ev, comps=components(ev), roles=roles, db_name=db_name,
                      owner_url=f"{PG_SERVER_URL}/{db_name}", bucket=bucket,
                      gcs=gcs, pubsub=pubsub_host, cloud_run=cloud_run, cloud_run_url=url, mount=mount,
                      subscriber=subscriber)
            w.state["topics"] = topics
            w.state["prefix"] = prefix
            yield w
    finally:
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        cloud_run.stop()
        gcs_server.stop()
        _sql_admin([f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)']
                   + [f'DROP ROLE IF EXISTS "{r}"' for r in created_roles])


def _members(ev: Evaluator, bindings: Any) -> list[dict[str, Any]]:
    return list((ev.value(bindings) or {}).values())


def _sa_of(member: str) -> str:
    return member.removeprefix("sa:")


def _iam_problems(w: World, name: str, published: set[str]) -> list[str]:
    """What the component's identity lacks for what its run did (Cloud SQL, bucket, topics, secrets)."""
    comp = w.comps[name]
    stack, ev = w.ev.stack, w.ev
    sa = comp.service_account
    problems = []
    roles = set(ev.value(stack.modules["iam"]["service_accounts"][sa]["project_roles"]) or [])
    if "INSTANCE_CONNECTION_NAME" in comp.env:
        for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser"):
            if role not in roles:
                problems.append(f"{name}: identity {sa} lacks {role}")
        if sa not in stack.modules["database"]["iam_service_accounts"]:
            problems.append(f"{name}: no Cloud SQL IAM user for {sa}")
    if "ATLAS_GCS_BUCKET" in comp.env:
        granted = {b["role"] for b in _members(ev, stack.modules["storage"]["iam_bindings"]) if _sa_of(b["member"]) == sa}
        if not granted:
            problems.append(f"{name}: identity {sa} has no role on the bucket")
    pubs = {(p["topic"], _sa_of(p["member"])) for p in _members(ev, stack.modules["pubsub"]["publishers"])}
    for topic in sorted(published):
        if (topic, sa) not in pubs:
            problems.append(f"{name}: published to {topic} but {sa} is not a publisher there")
    accessors = {(a["secret"], _sa_of(a["member"])) for a in _members(ev, stack.modules["secrets"]["accessors"])}
    for env_name, secret in comp.secret_env.items():
        if (secret, sa) not in accessors:
            problems.append(f"{name}: reads {env_name} from {secret} but {sa} cannot access it")
    return problems


def _push(port: int, topic: str, message: Any = None, *, data: bytes = b"", attributes: dict | None = None,
          subscription: str | None = None) -> tuple[int, str]:
    """A raw Pub/Sub push request body, as the push subscription sends it."""
    if message is not None:
        data, attributes = message.data, dict(message.attributes)
    body = {"message": {"data": base64.b64encode(data).decode(), "attributes": attributes or {},
                        "messageId": str(uuid.uuid4().int)[:16], "publishTime": datetime.now(timezone.utc).isoformat()},
            "subscription": subscription or f"projects/{PROJECT}/subscriptions/{topic}-dispatch"}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.fixture(scope="module")
def dispatcher(world: World) -> Iterator[int]:
    """The dispatcher service: Terraform's command and environment on a loopback port."""
    port = free_port()
    comp = world.comps["dispatcher"]
    cwd = world.tmp / "cwd-dispatcher"
    cwd.mkdir(exist_ok=True)
    log_path = world.tmp / "dispatcher.log"
    argv = world.prefix("dispatcher") + comp.argv(sys.executable, str(BIN / "functions-framework")) + [
        "--host=127.0.0.1", f"--port={port}"]
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen(argv, env=world.env("dispatcher", {"PORT": str(port), "K_SERVICE": "atlas-dispatcher"}),
                                cwd=cwd, stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, 60, log_path)
        world.state["dispatcher_log"] = log_path
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _db(world: World, sql: str, params: dict | None = None) -> list[Any]:
    from sqlalchemy import text

    engine = world.owner_engine()
    try:
        with engine.begin() as conn:
            res = conn.execute(text(sql), params or {})
            return list(res) if res.returns_rows else []
    finally:
        engine.dispose()


def _document(world: World, doc_id: str) -> dict[str, Any]:
    [row] = _db(world, "SELECT status, error_code, progress FROM documents WHERE id = :i", {"i": doc_id})
    return {"status": row[0], "error_code": row[1], "progress": row[2]}


# ---- the tests, in the order a document lives ----

def test_migrate_job_runs_as_the_owner_and_grants_every_component(world: World) -> None:
    code, out = world.run_job("migrate", [])
    assert code == 0, out
    for comp, role in world.roles.items():
        if comp == "migrate":
            continue
        rows = _db(world, "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = :r", {"r": role})
        assert rows[0][0] > 0, f"{comp}'s database user {role} was granted nothing"
    # a component reads only what it was granted: the dispatcher may not read API keys
    rows = _db(world, "SELECT has_table_privilege(:r, 'api_keys', 'SELECT')", {"r": world.roles["dispatcher"]})
    assert rows[0][0] is False
    from pipeline.keys import create_key
    from pipeline.adapters.sql_uow import SqlUnitOfWorkFactory

    engine = world.owner_engine()
    try:
        org, key, _ = create_key("tf-runtime", uow_factory=SqlUnitOfWorkFactory(engine),
                                 pepper=SECRET_VALUES["api_key_pepper"])
    finally:
        engine.dispose()
    world.state.update(org_id=org.id, api_key=key)


def _stage_upload(world: World, path: Path) -> str:
    """A reserved signed upload (what POST /v1/uploads leaves) whose bytes have reached the bucket."""
    import hashlib

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from pipeline.adapters.sql_uow import SqlUnitOfWorkFactory
    from pipeline.domain.model import Document, DocumentStatus, new_id, utcnow

    data = path.read_bytes()
    doc_id = new_id()
    engine = world.owner_engine()
    try:
        with SqlUnitOfWorkFactory(engine)() as uow:
            uow.documents.add(Document(
                id=doc_id, org_id=world.state["org_id"], filename=path.name, content_hash=f"pending-{doc_id}",
                size_bytes=len(data), media_type="text/plain", blob_key=f"uploads/{doc_id}",
                status=DocumentStatus.QUEUED,
                progress={"stage": "awaiting_upload", "expected_sha256": hashlib.sha256(data).hexdigest(),
                          "at": utcnow().isoformat()}))
            uow.commit()
    finally:
        engine.dispose()
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": world.gcs})
    client.bucket(world.bucket).blob(f"uploads/{doc_id}").upload_from_string(data, content_type="text/plain")
    return doc_id


def _delete_blob(world: World, name: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": world.gcs})
    client.bucket(world.bucket).blob(name).delete()


def _lease(name: str) -> Path:
    path = DEVSET / name
    if not path.exists():
        pytest.skip(f"devset lease {path} missing")
    return path


def test_dispatcher_completes_a_signed_upload_from_a_raw_push(world: World, dispatcher: int) -> None:
    if "org_id" not in world.state:
        pytest.skip("needs the migrate test")
    doc_id = _stage_upload(world, _lease("D034.txt"))
    world.drain()
    status, body = _push(dispatcher, "atlas-document-uploaded", data=b"{}", attributes={
        "eventType": "OBJECT_FINALIZE", "objectId": f"uploads/{doc_id}", "bucketId": world.bucket, "source": "gcs"})
    log = world.state["dispatcher_log"].read_text(errors="replace")[-3000:]
    assert status == 200, f"{status} {body[:300]}\n{log}"
    doc = _document(world, doc_id)
    assert (doc["status"], doc["progress"]["stage"]) == ("queued", "queued"), (doc, log)
    published = world.drain()
    assert [m.attributes["event_type"] for m in published.get("document-uploaded", [])] == ["document.uploaded"]
    assert _iam_problems(world, "dispatcher", set(published)) == []
    world.state["doc_id"] = doc_id
    world.state["uploaded_msg"] = published["document-uploaded"][0]


def test_dispatcher_starts_the_extract_job_for_document_uploaded(world: World, dispatcher: int) -> None:
    msg = world.state.get("uploaded_msg")
    if msg is None:
        pytest.skip("needs the upload completion")
    before = len(world.cloud_run.runs)
    # the message carries the trace of the request that published it (the API's X-Cloud-Trace-Context)
    status, body = _push(dispatcher, "atlas-document-uploaded", data=msg.data,
                         attributes={**dict(msg.attributes), "trace": TRACE})
    assert status == 200, body[:300]
    [run] = world.cloud_run.runs[before:]
    assert (run["job"], run["args"]) == (world.ev.stack.locals["extract_job_name"], [world.state["doc_id"]])
    assert run["env"] == {"ATLAS_TRACE": TRACE}  # the execution logs under the same trace
    world.state["extract_env"] = run["env"]
    runners = world.ev.value(world.ev.stack.modules["extract_job"]["runners"])
    assert any(_sa_of(r["member"]) == "dispatcher" for r in runners.values())
    assert world.comps["dispatcher"].env["ATLAS_EXTRACT_JOB"] == run["job"]


def test_extract_job_runs_with_terraforms_environment_and_grants(world: World) -> None:
    doc_id = world.state.get("doc_id")
    if doc_id is None:
        pytest.skip("needs the upload completion")
    code, out = world.run_job("extract", (world.comps["extract"].job_args or []) + [doc_id],
                              extra=world.state.get("extract_env"))
    assert code == 0, out[-3000:]
    assert f'"logging.googleapis.com/trace": "{TRACE}"' in out
    doc = _document(world, doc_id)
    assert doc["status"] == "ready", (doc, out[-2000:])
    published = world.drain()
    assert [m.attributes["event_type"] for m in published.get("extraction-completed", [])] == ["extraction.completed"]
    assert published["extraction-completed"][0].attributes["trace"] == TRACE  # and hands it on
    assert _iam_problems(world, "extract", set(published)) == []
    world.state["completed_msg"] = published["extraction-completed"][0]


def test_dispatcher_starts_the_index_job_for_extraction_completed(world: World, dispatcher: int) -> None:
    msg = world.state.get("completed_msg")
    if msg is None:
        pytest.skip("needs the extract job")
    before = len(world.cloud_run.runs)
    status, body = _push(dispatcher, "atlas-extraction-completed", msg)
    assert status == 200, body[:300]
    [run] = world.cloud_run.runs[before:]
    assert run["job"] == world.ev.stack.locals["index_job_name"]
    world.state["index_args"] = run["args"]


def test_index_job_writes_a_generation_on_its_writable_mount(world: World) -> None:
    args = world.state.get("index_args")
    if args is None:
        pytest.skip("needs the index dispatch")
    nfs = world.comps["index"].nfs
    assert nfs is not None and nfs["read_only"] is False and Path(nfs["mount_path"]) == world.mount
    code, out = world.run_job("index", args, timeout_s=400)
    assert code == 0, out[-3000:]
    assert any(world.mount.iterdir()), "the index job wrote nothing on the share"
    assert _iam_problems(world, "index", set(world.drain())) == []


@pytest.fixture(scope="module")
def api_server(world: World) -> Iterator[tuple[int, Path]]:
    """The API image's CMD (gunicorn) with Terraform's environment, as the image's user, on a read-only mount."""
    if "api_key" not in world.state:
        pytest.skip("needs the migrate test")
    comp = world.comps["api"]
    nfs = comp.nfs
    assert nfs is not None and nfs["read_only"] is True and Path(nfs["mount_path"]) == world.mount
    for path in [world.mount, *world.mount.rglob("*")]:  # read-only: nobody below root may write
        path.chmod(path.stat().st_mode & ~0o222)
    port = free_port()
    cmd = [c.replace("0.0.0.0:${PORT}", "127.0.0.1:${PORT}")  # loopback only in tests
           for c in dockerfile_cmd(REPO / "Dockerfile.api")]
    cwd = world.tmp / "cwd-api"
    cwd.mkdir(exist_ok=True)
    log_path = world.tmp / "api.log"
    llm = _FakeChat.serve()  # Terraform gives the API an OpenAI key: its answers go to a loopback stand-in
    extra = {"PORT": str(port), "OPENAI_BASE_URL": f"http://127.0.0.1:{llm.server_port}/v1"}
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen(world.prefix("api") + cmd, env=world.env("api", extra), cwd=cwd,
                                stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, 90, log_path)
        yield port, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        llm.shutdown()


class _FakeChat(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that answers without citations (Atlas then answers extractively)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": "No idea."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        return None

    @classmethod
    def serve(cls) -> http.server.ThreadingHTTPServer:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def test_api_starts_and_is_ready_with_terraforms_environment(world: World, api_server: tuple[int, Path]) -> None:
    port, _ = api_server
    health = world.ev.value(world.comps["api"].args.get("health_path"))
    for path in (health, "/ready"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
            assert resp.status == 200, path
    assert _iam_problems(world, "api", set()) == []


def test_api_accepts_an_upload_with_its_grants_bucket_and_topic(world: World, api_server: tuple[int, Path]) -> None:
    import requests

    port, log_path = api_server
    world.drain()
    lease = _lease("D036.txt")
    resp = requests.post(f"http://127.0.0.1:{port}/v1/documents", timeout=60,
                         headers={"Authorization": f"Bearer {world.state['api_key']}"},
                         files={"file": (lease.name, lease.read_bytes(), "text/plain")})
    assert resp.status_code == 202, f"{resp.status_code} {resp.text[:300]}\n{log_path.read_text(errors='replace')[-2000:]}"
    doc_id = resp.json()["id"]
    assert _document(world, doc_id)["status"] == "queued"
    published = world.drain()  # the request relayed its outbox row itself
    assert [json.loads(m.data)["payload"]["document_id"] for m in published.get("document-uploaded", [])] == [doc_id]
    assert _iam_problems(world, "api", set(published)) == []


def test_api_queries_the_index_on_its_read_only_mount(world: World, api_server: tuple[int, Path]) -> None:
    port, log_path = api_server
    if not any(world.mount.iterdir()):
        pytest.skip("no index generation to query (the index job test did not run)")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/query", method="POST",
                                 data=json.dumps({"question": "Who is the tenant under the lease?"}).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {world.state['api_key']}"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{exc.code} {exc.read()[:300]!r}\n{log_path.read_text(errors='replace')[-1500:]}")
    assert body["sources"] and body["sources"][0]["document_id"] == world.state["doc_id"]


def test_sweep_job_redrives_a_stuck_document_and_relays(world: World) -> None:
    if "org_id" not in world.state:
        pytest.skip("needs the migrate test")
    from pipeline.adapters.sql_uow import SqlUnitOfWorkFactory
    from pipeline.domain.model import Document, DocumentStatus, new_id

    doc_id = new_id()
    engine = world.owner_engine()
    try:
        with SqlUnitOfWorkFactory(engine)() as uow:  # queued, its event lost, an hour ago
            uow.documents.add(Document(id=doc_id, org_id=world.state["org_id"], filename="lost.txt",
                                       content_hash="ab" * 32, size_bytes=10, media_type="text/plain",
                                       blob_key=f"sha256/ab/{'ab' * 32}", status=DocumentStatus.QUEUED,
                                       progress={"stage": "queued"}))
            uow.commit()
    finally:
        engine.dispose()
    variant = world.tmp / "sweep-lease.txt"  # bytes no other test uploads (one document per content)
    variant.write_text(_lease("D036.txt").read_text(encoding="utf-8") + "\nSchedule 9: sweep copy.\n",
                       encoding="utf-8")
    lost_notification = _stage_upload(world, variant)  # bytes arrived, notification lost
    never_uploaded = _stage_upload(world, variant)
    _delete_blob(world, f"uploads/{never_uploaded}")  # the client never sent the bytes
    _db(world, "UPDATE documents SET updated_at = :t WHERE id IN (:a, :b, :c)",
        {"t": datetime.now(timezone.utc) - timedelta(hours=2), "a": doc_id, "b": lost_notification,
         "c": never_uploaded})
    world.drain()
    code, out = world.run_job("sweep", world.comps["sweep"].job_args or [])
    assert code == 0, out[-3000:]
    published = world.drain()
    redriven = [json.loads(m.data)["payload"]["document_id"] for m in published.get("document-uploaded", [])]
    assert sorted(redriven) == sorted([doc_id, lost_notification]), out[-2000:]
    assert _document(world, lost_notification)["progress"]["stage"] == "queued"
    assert (_document(world, never_uploaded)["status"], _document(world, never_uploaded)["error_code"]) == \
        ("failed", "upload_expired")
    from jobs.sweep_job import redrive_count

    assert redrive_count(_document(world, doc_id)["progress"]) == 1
    assert _iam_problems(world, "sweep", set(published)) == []
    assert world.ev.stack.modules["sweep"]["job_name"] == "${module.sweep_job.name}"  # the schedule runs it


def test_dead_lettered_upload_ends_failed_through_the_dispatcher(world: World, dispatcher: int) -> None:
    if "org_id" not in world.state:
        pytest.skip("needs the migrate test")
    from pipeline.adapters.pubsub_bus import encode_event, message_attributes
    from pipeline.domain.events import document_uploaded

    doc_id = _stage_upload(world, _lease("D035.txt"))
    _db(world, "UPDATE documents SET progress = :p WHERE id = :i", {"p": json.dumps({"stage": "queued"}), "i": doc_id})
    event = document_uploaded(world.state["org_id"], doc_id, "cd" * 32)
    attrs = {**message_attributes(event), "CloudPubSubDeadLetterSourceDeliveryCount": "5"}
    prefix = world.state["prefix"]
    status, body = _push(dispatcher, f"{prefix}-dead-letter", data=encode_event(event), attributes=attrs,
                         subscription=f"projects/{PROJECT}/subscriptions/{prefix}-dead-letter-dispatch")
    assert status == 200, body[:300]
    doc = _document(world, doc_id)
    assert (doc["status"], doc["error_code"]) == ("failed", "dispatch_failed")
    [row] = _db(world, "SELECT error_message FROM documents WHERE id = :i", {"i": doc_id})
    assert "after 5 delivery attempts" in row[0]
