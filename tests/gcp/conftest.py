"""Fixtures for the Google Cloud adapters: in-process GCS emulator, the Pub/Sub emulator jar, a fresh Postgres DB."""
from __future__ import annotations

import glob
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from support.emulators import LoopbackJsonApi
from support.postgres import fresh_database

PUBSUB_JAR_GLOB = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """The in-process Cloud Storage emulator; yields its endpoint."""
    server_mod = pytest.importorskip("gcp_storage_emulator.server",
                                     reason="gcp-storage-emulator is not installed")
    port = free_port()
    server = server_mod.create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture()
def gcs_bucket(gcs_emulator: str):  # type: ignore[no-untyped-def]
    """A fresh bucket on the emulator: (client, bucket name)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="atlas-test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_emulator})
    name = f"atlas-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return client, name


@pytest.fixture(scope="session")
def signing_credentials():  # type: ignore[no-untyped-def]
    """A service-account credential with a freshly generated RSA key (V4 signing without Google)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": "atlas-test", "private_key_id": "k1", "private_key": pem,
            "client_email": "atlas-api@atlas-test.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token"}
    return service_account.Credentials.from_service_account_info(info)


@pytest.fixture(scope="session")
def pubsub_emulator_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real Pub/Sub emulator jar on a free port; skips with the reason when Java or the jar is missing."""
    java = shutil.which("java")
    jars = sorted(glob.glob(PUBSUB_JAR_GLOB))
    if not java:
        pytest.skip("java is not installed: the Pub/Sub emulator cannot run")
    if not jars:
        pytest.skip(f"Pub/Sub emulator jar not found ({PUBSUB_JAR_GLOB}); install google-cloud-sdk pubsub-emulator")
    port = free_port()
    log_path = tmp_path_factory.mktemp("pubsub") / "emulator.log"
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen([java, "-jar", jars[-1], "--host=127.0.0.1", f"--port={port}"],
                                stdout=log_fh, stderr=subprocess.STDOUT)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.skip(f"Pub/Sub emulator exited early: {Path(log_path).read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Pub/Sub emulator not ready within 60 s")
                time.sleep(0.2)
        yield host
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture()
def pubsub_env(pubsub_emulator_host: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """PUBSUB_EMULATOR_HOST set for the client libraries for this test only."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator_host)
    return pubsub_emulator_host


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh Postgres database (migrated) for the session on 127.0.0.1:5432; dropped at the end."""
    from pipeline.adapters.sql_engine import make_engine, migrate

    with fresh_database("atlas_test") as url:
        engine = make_engine(url, pool_size=2)
        migrate(engine)
        engine.dispose()
        yield url


class FakeCloudRun(LoopbackJsonApi):
    """A loopback Cloud Run Admin API: `jobs/<job>:run` returns a long-running operation and runs the job's
    command once per task as a subprocess, with the environment Cloud Run gives a task."""

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str], project: str = "atlas-test",
                 region: str = "europe-west1") -> None:
        self.commands = commands
        self.env = env
        self.project = project
        self.region = region
        self.executions: list[dict] = []
        self.fail_next: list[int] = []  # HTTP statuses to answer instead of running
        self.endpoint = ""

    def handle(self, path: str, body: dict) -> tuple[int, dict]:
        import os
        import re
        import sys

        m = re.fullmatch(r"/v2/projects/([^/]+)/locations/([^/]+)/jobs/([^/:]+):run", path.split("?")[0])
        if not m:
            return 404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}}
        if self.fail_next:
            code = self.fail_next.pop(0)
            return code, {"error": {"code": code, "message": "injected failure",
                                    "status": {503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}.get(code, "UNKNOWN")}}
        project, region, job = m.groups()
        if job not in self.commands:
            return 404, {"error": {"code": 404, "message": f"job {job} not found", "status": "NOT_FOUND"}}
        overrides = body.get("overrides") or {}
        args = [a for c in overrides.get("containerOverrides") or [] for a in c.get("args") or []]
        count = int(overrides.get("taskCount") or 1)
        exec_id = f"{job}-{uuid.uuid4().hex[:5]}"
        name = f"projects/{project}/locations/{region}/jobs/{job}/executions/{exec_id}"
        procs = []
        for index in range(count):
            env = {**os.environ, **self.env, "CLOUD_RUN_JOB": job, "CLOUD_RUN_EXECUTION": exec_id,
                   "CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": str(count),
                   "CLOUD_RUN_TASK_ATTEMPT": "0"}
            procs.append(subprocess.Popen(self.commands[job] + args, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT))
        self.executions.append({"name": name, "job": job, "args": args, "task_count": count, "procs": procs})
        return 200, {"name": f"projects/{project}/locations/{region}/operations/{uuid.uuid4()}",
                     "metadata": {"@type": "type.googleapis.com/google.cloud.run.v2.Execution", "name": name,
                                  "job": job, "taskCount": count},
                     "done": False}

    def wait(self, execution: dict, timeout_s: float = 120.0) -> list[tuple[int, str]]:
        """Exit codes and output of each task of an execution."""
        out = []
        for p in execution["procs"]:
            stdout, _ = p.communicate(timeout=timeout_s)
            out.append((p.returncode, stdout.decode(errors="replace")))
        return out
        for ex in self.executions:
            for p in ex["procs"]:
                if p.poll() is None:
                    p.kill()
                    p.wait(5)


def _cloud_run_factory(started: list[FakeCloudRun]):  # type: ignore[no-untyped-def]
    def make(commands: dict[str, list[str]], env: dict[str, str]):  # type: ignore[no-untyped-def]
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import run_v2

        fake = FakeCloudRun(commands, env)
        fake.endpoint = fake.start()
        started.append(fake)
        client = run_v2.JobsClient(transport="rest", credentials=AnonymousCredentials(),
                                   client_options={"api_endpoint": fake.endpoint})
        return fake, client

    return make


@pytest.fixture()
def fake_cloud_run():  # type: ignore[no-untyped-def]
    """Factory (commands, env) -> (FakeCloudRun, real JobsClient on REST pointed at it); stopped after the test."""
    started: list[FakeCloudRun] = []
    yield _cloud_run_factory(started)
    for f in started:
        f.stop()


@pytest.fixture(scope="module")
def module_fake_cloud_run():  # type: ignore[no-untyped-def]
    """The same factory, living for a whole test module (the end-to-end flow)."""
    started: list[FakeCloudRun] = []
    yield _cloud_run_factory(started)
    for f in started:
        f.stop()
