"""Held pipeline waits cannot freeze the server: /health answers while the wait slots are full, the next wait
gets 503 with Retry-After at once, and a graceful stop ends the held waits."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import requests
from security_support import LEASE, ServedApi, make_api

N = 2  # wait slots; the server has N + 2 threads


def _wait_until(pred, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_held_streams_leave_health_answering_and_the_next_wait_gets_503(tmp_path: Path) -> None:
    # no worker: the upload stays queued, so every stream on it holds its thread for ATLAS_LEGACY_WAIT_S
    api = make_api(tmp_path, ATLAS_LEGACY_MAX_WAITS=N, ATLAS_LEGACY_WAIT_S=60)
    served = ServedApi(api, threads=N + 2, grace_s=5)
    slots = api.app.extensions["atlas_wait_slots"]
    try:
        token = requests.post(f"{served.url}/upload", files={"file": ("alpha.txt", io.BytesIO(LEASE))},
                              timeout=10).json()["filepath"]
        streams: list[requests.Response] = []

        def hold() -> None:
            try:
                streams.append(requests.get(f"{served.url}/stream-key-terms", params={"filename": token},
                                            stream=True, timeout=90))
            except requests.RequestException:
                pass  # closed by the stop below

        holders = [threading.Thread(target=hold, daemon=True) for _ in range(N)]
        for th in holders:
            th.start()
        assert _wait_until(lambda: slots.in_use == N, 10), f"{slots.in_use} of {N} streams held"
        for _ in range(3):
            t0 = time.monotonic()
            health = requests.get(f"{served.url}/health", timeout=5)
            assert health.status_code == 200 and time.monotonic() - t0 < 1.0
        extra = requests.get(f"{served.url}/stream-key-terms", params={"filename": token}, timeout=5)
        assert extra.status_code == 503, extra.text
        assert int(extra.headers["Retry-After"]) >= 1
        assert extra.json()["status"] == "error"
        summary = requests.post(f"{served.url}/extract-summary", files={"file": ("alpha.txt", io.BytesIO(LEASE))},
                                timeout=5)
        assert summary.status_code == 503 and "Retry-After" in summary.headers
        assert slots.in_use == N
    finally:
        took = served.stop()
    assert took < 5 + 2, f"stopping with held streams took {took:.1f} s"
    assert slots.in_use == 0
