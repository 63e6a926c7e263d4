"""Rate limits cover the legacy routes too, and hold across server processes that share their store (Redis)."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from security_support import LEASE, make_api

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379"


@pytest.mark.parametrize("method,path,kw", [
    ("get", "/blockchain-events", {}),
    ("get", "/query?text=rent", {}),
    ("post", "/upload", {"data": {"file": (io.BytesIO(LEASE), "l.txt")}}),
])
def test_legacy_routes_are_rate_limited(tmp_path: Path, method: str, path: str, kw: dict) -> None:
    api = make_api(tmp_path, ATLAS_RATE_LIMIT_PER_MINUTE=5)
    client = api.client()
    codes = []
    for _ in range(8):
        if "data" in kw:
            kw = {"data": {"file": (io.BytesIO(LEASE), "l.txt")}}
        codes.append(getattr(client, method)(path, **kw).status_code)
    assert all(c != 429 for c in codes[:5]) and codes[5:] == [429, 429, 429], codes
    r = getattr(client, method)(path, **({"data": {"file": (io.BytesIO(LEASE), "l.txt")}} if "data" in kw else {}))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["status"] == "error"  # the legacy error shape
    assert client.get("/health").status_code == 200  # probes are never limited


def _redis_or_skip() -> None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                raise OSError("no PONG")
    except OSError as exc:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379 ({exc})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_limit_holds_across_two_processes_sharing_redis(tmp_path: Path) -> None:
    _redis_or_skip()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ATLAS_DATA_DIR": str(tmp_path / "data"),
           "FLASK_ENV": "development", "ATLAS_RATE_LIMIT_PER_MINUTE": "6", "ATLAS_EMBEDDED_WORKER": "false",
           "ATLAS_RATE_LIMIT_STORAGE_URI": REDIS}
    env.pop("DATABASE_URL", None)
    ports = [_free_port(), _free_port()]
    procs = []
    try:
        for port in ports:
            procs.append(subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port)],
                                          cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline and procs[-1].poll() is None, procs[-1].stderr.read()[-2000:]
                time.sleep(0.3)
        # a fresh caller identity per run, so earlier runs' counts in the shared Redis do not matter
        headers = {"Authorization": f"Bearer atlas_{uuid.uuid4().hex[:8]}_nope"}
        codes = [requests.get(f"http://127.0.0.1:{ports[i % 2]}/v1/documents", headers=headers, timeout=5).status_code
                 for i in range(10)]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    # 6 per minute in total, alternating between the two servers: a per-process limit would allow 10 (5 + 5)
    assert codes[:6] == [401] * 6 and codes[6:] == [429] * 4, codes
