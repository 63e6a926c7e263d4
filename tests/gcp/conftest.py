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

PUBSUB_JAR_GLOB = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar"
PG_ADMIN_URL = "postgresql+pg8000://postgres@127.0.0.1:5432/test"


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
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the server is optional on a developer machine
        admin.dispose()
        pytest.skip(f"Postgres not reachable at 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"atlas_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+pg8000://postgres@127.0.0.1:5432/{name}"
    try:
        from pipeline.adapters.sql_engine import make_engine, migrate

        engine = make_engine(url, pool_size=2)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
