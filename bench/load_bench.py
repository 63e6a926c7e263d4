"""Load on loopback: 200 concurrent uploads + 1,000 queries against a real `atlas serve`; latency and losses."""
from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

UPLOADS = 200
QUERIES = 1000
CONCURRENCY = 16


def _lease(i: int) -> bytes:
    return (f"COMMERCIAL LEASE\n\nThis Lease is made on March 1, 2025 between Harbor Point LLC (\"Landlord\") "
            f"and Tenant Number {i} Inc. (\"Tenant\").\nPremises: {100 + i} Main Street, Suite {i}, Austin, Texas.\n"
            f"Term: sixty (60) months commencing March 1, 2025.\nBase Rent: ${10000 + i:,}.00 per month.\n"
            f"Security Deposit: ${20000 + i:,}.00.\nThis Lease is governed by the laws of the State of Texas.\n"
            ).encode()


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000, 1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run() -> dict:
    """Start a server, hammer it (bounded), and report throughput, percentiles, 5xx and lost/duplicate documents."""
    atlas = Path(sys.executable).with_name("atlas")
    tmp = Path(tempfile.mkdtemp(prefix="atlas-load-"))
    port = _free_port()
    env = {**os.environ, "ATLAS_DATA_DIR": str(tmp), "PORT": str(port), "ATLAS_RATE_LIMIT_PER_MINUTE": "100000"}
    proc = subprocess.Popen([str(atlas), "serve", "--dev-key", "--threads", "16"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        key = (tmp / "dev_api_key").read_text().strip()
        h = {"Authorization": f"Bearer {key}"}
        session = requests.Session()

        def upload(i: int) -> tuple[int, float, str | None]:
            t0 = time.monotonic()
            r = session.post(base + "/v1/documents", headers=h, files={"file": (f"l{i}.txt", _lease(i))}, timeout=60)
            return r.status_code, time.monotonic() - t0, r.json().get("id") if r.ok else None

        t0 = time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            ups = list(pool.map(upload, range(UPLOADS)))
        upload_wall = time.monotonic() - t0

        has_query = session.post(base + "/v1/query", headers=h, json={"question": "rent"}, timeout=30).status_code != 404
        questions = ["what is the base rent?", "when does the lease commence?", "who is the landlord?",
                     "which law governs the lease?", "what is the security deposit?"]

        def query(i: int) -> tuple[int, float]:
            t = time.monotonic()
            if has_query:
                r = session.post(base + "/v1/query", headers=h, json={"question": questions[i % 5]}, timeout=60)
            else:
                r = session.get(base + "/v1/documents?limit=20", headers=h, timeout=60)
            return r.status_code, time.monotonic() - t

        t0 = time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            qs = list(pool.map(query, range(QUERIES)))
        query_wall = time.monotonic() - t0

        ids = [u[2] for u in ups if u[2]]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            docs = session.get(base + "/v1/documents?limit=500", headers=h, timeout=60).json()["documents"]
            if sum(d["status"] in ("ready", "failed") for d in docs) >= len(set(ids)):
                break
            time.sleep(2)
        docs = session.get(base + "/v1/documents?limit=500", headers=h, timeout=60).json()["documents"]
        statuses = [d["status"] for d in docs]
        return {
            "uploads": UPLOADS, "upload_throughput_per_s": round(UPLOADS / upload_wall, 1),
            "upload_p50_ms": _pct([u[1] for u in ups], 50), "upload_p95_ms": _pct([u[1] for u in ups], 95),
            "upload_p99_ms": _pct([u[1] for u in ups], 99),
            "queries": QUERIES, "query_endpoint": "/v1/query" if has_query else "/v1/documents",
            "query_throughput_per_s": round(QUERIES / query_wall, 1),
            "query_p50_ms": _pct([q[1] for q in qs], 50), "query_p95_ms": _pct([q[1] for q in qs], 95),
            "query_p99_ms": _pct([q[1] for q in qs], 99),
            "http_5xx": sum(1 for s, *_ in ups + qs if s >= 500),
            "documents_listed": len(docs), "documents_unique": len({d["id"] for d in docs}),
            "lost_documents": UPLOADS - len(set(ids)), "duplicated_documents": len(docs) - len({d["id"] for d in docs}),
            "ready": statuses.count("ready"), "failed": statuses.count("failed"),
            "mean_query_ms": round(statistics.mean(q[1] for q in qs) * 1000, 1),
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
