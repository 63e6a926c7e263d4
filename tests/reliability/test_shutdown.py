"""Graceful stop of `atlas serve`: SIGTERM ends held waits, lets the worker's current event finish (or gives it
back to the queue after the grace period), and the process exits 0 within the grace period."""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))
from security_support import LEASE, ServedApi, make_api  # noqa: E402

from pipeline.adapters import sql_tables as t  # noqa: E402
from pipeline.domain.events import DOCUMENT_UPLOADED  # noqa: E402
from pipeline.worker import Worker  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class BlockingHandler:
    """A document handler that takes `seconds` (or until released), recording what it finished."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.finished: list[str] = []

    def __call__(self, ev: Any) -> None:
        self.started.set()
        time.sleep(self.seconds)
        self.finished.append(ev.payload["document_id"])


def _outbox(api: Any) -> list[dict]:
    with api.svc.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t.outbox.c.status, t.outbox.c.attempts, t.outbox.c.type))
                .mappings() if r["type"] == DOCUMENT_UPLOADED]


def _start(tmp_path: Path, seconds: float, grace_s: float) -> tuple[Any, ServedApi, BlockingHandler, str]:
    api = make_api(tmp_path, ATLAS_LEGACY_MAX_WAITS=2, ATLAS_LEGACY_WAIT_S=60)
    handler = BlockingHandler(seconds)
    worker = Worker(api.svc.queue, {DOCUMENT_UPLOADED: handler}, poll_s=0.05)
    served = ServedApi(api, threads=4, grace_s=grace_s, worker=worker)
    token = requests.post(f"{served.url}/upload", files={"file": ("alpha.txt", io.BytesIO(LEASE))},
                          timeout=10).json()["filepath"]
    worker.start(1)
    assert handler.started.wait(10)
    held = threading.Thread(target=lambda: requests.get(f"{served.url}/stream-key-terms",
                                                        params={"filename": token}, timeout=60).content,
                            daemon=True)
    held.start()
    deadline = time.monotonic() + 10
    while api.app.extensions["atlas_wait_slots"].in_use < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return api, served, handler, token


def test_stop_lets_the_current_document_finish_within_the_grace(tmp_path: Path) -> None:
    api, served, handler, _ = _start(tmp_path, seconds=1.5, grace_s=10)
    took = served.stop()
    assert took < 10, f"{took:.1f} s"
    assert served.clean is True
    assert len(handler.finished) == 1
    assert [r["status"] for r in _outbox(api)] == ["done"]


def test_stop_gives_an_unfinished_document_back_to_the_queue_after_the_grace(tmp_path: Path) -> None:
    api, served, handler, _ = _start(tmp_path, seconds=30, grace_s=1.5)
    took = served.stop()
    assert took < 1.5 + 2.5, f"{took:.1f} s"
    assert served.clean is False
    assert handler.finished == []
    rows = _outbox(api)
    assert [r["status"] for r in rows] == ["pending"], rows  # released, not left claimed for the 600 s lease
    assert rows[0]["attempts"] == 0  # a shutdown is not a failed attempt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "ATLAS_DATA_DIR": str(tmp_path / "data"), "FLASK_ENV": "development",
            "ATLAS_RATE_LIMIT_PER_MINUTE": "100000", **env}
    full.pop("DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port), "--threads", "6"],
                            cwd=tmp_path, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_health(url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail("server did not come up")


def test_sigterm_with_held_streams_and_a_backlog_exits_0_within_the_grace(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(tmp_path, port, ATLAS_EMBEDDED_WORKER="false", ATLAS_SHUTDOWN_GRACE_S="4",
                  ATLAS_LEGACY_MAX_WAITS="3")
    try:
        _wait_health(url, proc)
        tokens = [requests.post(f"{url}/upload", files={"file": (f"l{i}.txt", io.BytesIO(LEASE + bytes([65 + i])))},
                                timeout=10).json()["filepath"] for i in range(3)]
        bodies: list[str] = []

        def hold(tk: str) -> None:
            try:
                bodies.append(requests.get(f"{url}/stream-key-terms", params={"filename": tk}, timeout=60).text)
            except requests.RequestException as exc:  # a stream cut off without its last event
                bodies.append(f"cut: {exc!r}")

        holders = [threading.Thread(target=hold, args=(tk,), daemon=True) for tk in tokens]
        for th in holders:  # queued with no worker: each stream holds a thread
            th.start()
        idle = socket.create_connection(("127.0.0.1", port))  # a kept-open connection with no request
        time.sleep(1.0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=4 + 6)
        took = time.monotonic() - t0
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, proc.stderr.read().decode()[-2000:]
    assert took < 4 + 2, f"{took:.1f} s"
    for th in holders:
        th.join(10)
    assert len(bodies) == 3
    for body in bodies:  # every held stream got a complete answer: its events and a retryable error at the end
        assert body.startswith("event: connected"), body[:200]
        last = body.rstrip().splitlines()[-1]
        assert last.startswith("data: ") and "shutting down" in last, body[-300:]


def test_busy_port_names_the_port_and_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _serve(tmp_path, port)
        out, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode != 0
    assert "Traceback" not in text and "Errno 98" not in text
    assert f"port {port}" in text and "--port" in text and "PORT" in text
