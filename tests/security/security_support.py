"""Helpers of the security suite: an embedded app (no worker unless a test starts one) and two organisations."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\n")


@dataclasses.dataclass
class Api:
    """Services, app and a test client, with API keys of organisations A and B."""

    svc: Any
    app: Any
    key_a: str
    key_b: str

    def client(self) -> Any:
        """A fresh test client (one per thread)."""
        return self.app.test_client()

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


def make_api(tmp_path: Path, *, blobs: Any = None, **overrides: Any) -> Api:
    """An embedded runtime on SQLite under tmp_path (rate limit high unless overridden)."""
    from api.app import create_app
    from pipeline.bootstrap import build
    from pipeline.keys import create_key
    from pipeline.settings import load_settings

    overrides.setdefault("ATLAS_RATE_LIMIT_PER_MINUTE", 100_000)
    settings = load_settings(ATLAS_DATA_DIR=str(tmp_path), FLASK_ENV="development", **overrides)
    svc = build(settings, migrate=True)
    if blobs is not None:
        svc = dataclasses.replace(svc, blobs=blobs(svc.blobs))
    _, key_a, _ = create_key("org-a", uow_factory=svc.uow_factory, pepper=settings.api_key_pepper)
    _, key_b, _ = create_key("org-b", uow_factory=svc.uow_factory, pepper=settings.api_key_pepper)
    return Api(svc, create_app(svc), key_a, key_b)


class ServedApi:
    """The app behind api.serve.Server (waitress, the `atlas serve` server) on a loopback port, in a thread."""

    def __init__(self, api: Api, *, threads: int, grace_s: float = 5.0, worker: Any = None) -> None:
        import threading

        from api.serve import Server

        self.api = api
        self.server = Server(api.app, host="127.0.0.1", port=0, threads=threads, grace_s=grace_s,
                             max_body=api.svc.settings.max_upload_bytes + 2 * 1024 * 1024, worker=worker,
                             on_drain=api.app.extensions["atlas_wait_slots"].close)
        host, port = self.server.bound[0]
        self.url = f"http://{host}:{port}"
        self.clean: bool | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.clean = self.server.run()

    def stop(self, timeout_s: float = 30.0) -> float:
        """Request the graceful stop; seconds until run() returned."""
        import time

        t0 = time.monotonic()
        self.server.stop_requested.set()
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "the server did not stop"
        return time.monotonic() - t0
