"""Browser-test helpers: a real `atlas serve` process on loopback and a page that records console errors."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("ATLAS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 90


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (make system-deps installs chromium + chromium-driver)"
    return None  # playwright itself is a pinned dev dependency: its absence is an error, not a skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `atlas serve` process with its own data directory and an API key of one organisation."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        # a high review threshold leaves some of a clean lease's fields needing review, as a harder lease would
        self.env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
                    "ATLAS_REVIEW_THRESHOLD": "0.95", "ATLAS_RATE_LIMIT_PER_MINUTE": "100000",
                    "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
        self.key = self._cli("keys", "create", "--org", "browser-tests").strip()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (data_dir / "serve.log").open("w")
        self.proc = subprocess.Popen(self._atlas("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                                     env=self.env, cwd=data_dir, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"atlas serve exited with {self.proc.returncode}: {self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.close()
        raise RuntimeError(f"atlas serve did not answer within {START_TIMEOUT_S}s: {self.log_text()}")

    @staticmethod
    def _atlas(*args: str) -> list[str]:
        return [sys.executable, "-c", "from pipeline.cli import main; main()", *args]

    def _cli(self, *args: str) -> str:
        done = subprocess.run(self._atlas(*args), env=self.env, cwd=self.data_dir, capture_output=True, text=True,
                              timeout=120, check=True)
        return done.stdout

    def log_text(self) -> str:
        """The server's output so far (for failure messages)."""
        self.log.flush()
        return (self.data_dir / "serve.log").read_text()[-4000:]

    def api(self, method: str, path: str, body: Any = None, *, key: str | None = None,
            data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        """Call the API directly (set-up and cross-checks): status, JSON (or bytes) and headers."""
        hdrs = {"Authorization": f"Bearer {key or self.key}", **(headers or {})}
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw, rh = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as exc:
            status, raw, rh = exc.code, exc.read(), dict(exc.headers)
        is_json = rh.get("Content-Type", "").startswith("application/json")
        return status, json.loads(raw) if is_json else raw, rh

    def upload(self, name: str, content: bytes, media_type: str) -> str:
        """Upload through the API (multipart) and return the document id."""
        boundary = "atlas-browser-test-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {media_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        status, doc, _ = self.api("POST", "/v1/documents", data=body,
                                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status in (200, 202), doc
        return doc["id"]

    def wait_ready(self, doc_id: str, timeout_s: float = 180) -> dict:
        """Poll until the document is ready (or fail with its state and the server log)."""
        deadline = time.monotonic() + timeout_s
        doc: dict = {}
        while time.monotonic() < deadline:
            _, doc, _ = self.api("GET", f"/v1/documents/{doc_id}")
            if doc.get("status") in ("ready", "failed"):
                break
            time.sleep(0.5)
        assert doc.get("status") == "ready", (doc, self.log_text())
        return doc

    def close(self) -> None:
        """Stop the server (SIGTERM, then kill if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


class BrowserPage:
    """A Playwright page plus everything the console and the page reported while the test ran."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.allowed: list[str] = []  # substrings of console errors a test provokes on purpose
        page.on("console", lambda msg: self.console_errors.append(f"console: {msg.text} @ {msg.location}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def unexpected_errors(self) -> list[str]:
        """Console errors other than the ones the test allowed."""
        return [e for e in self.console_errors if not any(a in e for a in self.allowed)]


