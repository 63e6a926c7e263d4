"""Local stand-ins for Google Cloud shared by test folders: the Pub/Sub emulator jar and a recording Cloud Run API."""
from __future__ import annotations

import glob
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

PUBSUB_JAR_GLOB = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float, log_path: Path | None = None) -> None:
    """Block until 127.0.0.1:port accepts; fail with the process output when it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise AssertionError(f"process exited with {proc.returncode} before listening:\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listened on {port} within {timeout_s} s")
            time.sleep(0.2)


@contextmanager
def pubsub_emulator(workdir: Path) -> Iterator[str]:
    """The real Pub/Sub emulator on a free loopback port; skips when Java or the jar is missing."""
    java = shutil.which("java")
    jars = sorted(glob.glob(PUBSUB_JAR_GLOB))
    if not java or not jars:
        pytest.skip(f"Pub/Sub emulator needs java and {PUBSUB_JAR_GLOB}")
    port = free_port()
    log_path = workdir / "pubsub-emulator.log"
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen([java, "-jar", jars[-1], "--host=127.0.0.1", f"--port={port}"],
                                stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, 60, log_path)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class LoopbackJsonApi:
    """A JSON-over-HTTP stand-in on a loopback port: every POST body goes to handle(path, body) -> (status, reply)."""

    _server: ThreadingHTTPServer | None = None

    def handle(self, path: str, body: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                status, reply = fake.handle(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


class RecordingCloudRun(LoopbackJsonApi):
    """A loopback Cloud Run Admin API that records `jobs/<job>:run` requests (the test runs the job itself)."""

    def __init__(self, jobs: set[str]) -> None:
        self.jobs = jobs
        self.runs: list[dict[str, Any]] = []

    def handle(self, path: str, body: dict) -> tuple[int, dict]:
        m = re.fullmatch(r"/v2/projects/([^/]+)/locations/([^/]+)/jobs/([^/:]+):run", path.split("?")[0])
        if not m or m.group(3) not in self.jobs:
            return 404, {"error": {"code": 404, "message": f"no job at {path}", "status": "NOT_FOUND"}}
        project, region, job = m.groups()
        overrides = body.get("overrides") or {}
        containers = overrides.get("containerOverrides") or []
        args = [a for c in containers for a in c.get("args") or []]
        env = {e["name"]: e.get("value", "") for c in containers for e in c.get("env") or []}
        name = f"projects/{project}/locations/{region}/jobs/{job}/executions/{job}-{uuid.uuid4().hex[:5]}"
        self.runs.append({"job": job, "args": args, "env": env, "name": name})
        return 200, {"name": f"projects/{project}/locations/{region}/operations/{uuid.uuid4()}",
                     "metadata": {"@type": "type.googleapis.com/google.cloud.run.v2.Execution", "name": name},
                     "done": False}
