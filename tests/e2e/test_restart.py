"""Killing `atlas serve` while a document is processing loses nothing: after a restart it finishes, once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SCAN = Path(__file__).resolve().parents[3] / "shared" / "devset" / "docs" / "D023.pdf"
ATLAS = Path(sys.executable).with_name("atlas")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "ATLAS_DATA_DIR": str(data), "PORT": str(port), "INDEX_SERVER_HOST": "127.0.0.1",
           "FLASK_ENV": "development"}
    proc = subprocess.Popen([str(ATLAS), "serve", "--dev-key"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
    proc.kill()
    raise AssertionError("server did not start within 120 s")


def _status(port: int, key: str, doc_id: str) -> str:
    r = requests.get(f"http://127.0.0.1:{port}/v1/documents/{doc_id}",
                     headers={"Authorization": f"Bearer {key}"}, timeout=10)
    return r.json()["status"]


@pytest.mark.slow
def test_document_processing_when_killed_finishes_after_restart(tmp_path: Path):
    if not SCAN.exists():
        pytest.skip(f"devset scan not found at {SCAN}")
    if not ATLAS.exists():
        pytest.skip("the atlas console script is not installed in this environment")
    data, port = tmp_path / "data", _free_port()
    proc = _start(data, port)
    try:
        key = (data / "dev_api_key").read_text().strip()
        with SCAN.open("rb") as fh:
            doc = requests.post(f"http://127.0.0.1:{port}/v1/documents", headers={"Authorization": f"Bearer {key}"},
                                files={"file": (SCAN.name, fh)}, timeout=30).json()
        deadline = time.monotonic() + 60
        while _status(port, key, doc["id"]) != "processing":
            assert time.monotonic() < deadline, "document never started processing"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    proc = _start(data, port)
    try:
        deadline = time.monotonic() + 240
        while (status := _status(port, key, doc["id"])) not in ("ready", "failed"):
            assert time.monotonic() < deadline, "document did not finish after restart"
            time.sleep(0.3)
        assert status == "ready"
        r = requests.get(f"http://127.0.0.1:{port}/v1/documents/{doc['id']}/extraction",
                         headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        assert r["versions"] == [1]
        listed = requests.get(f"http://127.0.0.1:{port}/v1/documents", headers={"Authorization": f"Bearer {key}"},
                              timeout=10).json()["documents"]
        assert len(listed) == 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
