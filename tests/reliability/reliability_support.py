"""Helpers of the reliability suite: a live loopback server, keys of two organisations, counters."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

SHARED = Path(__file__).resolve().parents[3] / "shared"
BADINPUTS = SHARED / "badinputs"


class Live:
    """A real werkzeug server on loopback over an embedded runtime, plus its in-process worker."""

    def __init__(self, data: Path, *, worker: bool = True, **overrides: object) -> None:
        from werkzeug.serving import make_server

        from api.app import create_app
        from pipeline.bootstrap import build
        from pipeline.keys import create_key
        from pipeline.settings import load_settings

        overrides.setdefault("ATLAS_RATE_LIMIT_PER_MINUTE", 100_000)
        self.settings = load_settings(ATLAS_DATA_DIR=str(data), FLASK_ENV="development", **overrides)
        self.services = build(self.settings, migrate=True)
        self.app = create_app(self.services)
        self.worker = None
        if worker:
            from pipeline.cli import start_worker

            self.worker = start_worker(self.services)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.org_a, self.key_a, self.api_key_a = create_key("org-a", uow_factory=self.services.uow_factory,
                                                            pepper=self.settings.api_key_pepper)
        self.org_b, self.key_b, _ = create_key("org-b", uow_factory=self.services.uow_factory,
                                               pepper=self.settings.api_key_pepper)

    def new_key(self, org: str, **kw: Any) -> str:
        """A fresh key (new organisation when the name is new)."""
        from pipeline.keys import create_key

        return create_key(org, uow_factory=self.services.uow_factory, pepper=self.settings.api_key_pepper, **kw)[1]

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def wait_terminal(self, doc_id: str, key: str, timeout_s: float) -> dict:
        """Poll the status endpoint until ready/failed (or the timeout)."""
        import requests

        deadline = time.monotonic() + timeout_s
        body: dict = {}
        while time.monotonic() < deadline:
            r = requests.get(f"{self.url}/v1/documents/{doc_id}", headers=self.auth(key), timeout=10)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] in ("ready", "failed"):
                return body
            time.sleep(0.1)
        return body

    def worker_alive(self) -> bool:
        return self.worker is not None and bool(self.worker._threads) and all(
            th.is_alive() for th in self.worker._threads)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.worker is not None:
            self.worker.stop(timeout_s=60)


def counts(engine: Any) -> dict[str, Any]:
    """Rows per table that matter after a fault: documents, extraction versions, outbox states."""
    from pipeline.adapters import sql_tables as t

    with engine.connect() as conn:
        docs = conn.execute(select(func.count()).select_from(t.documents)).scalar_one()
        exts = conn.execute(select(func.count()).select_from(t.extractions)).scalar_one()
        outbox = dict(conn.execute(select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status)).all())
        by_type = dict(conn.execute(select(t.outbox.c.type, func.count()).group_by(t.outbox.c.type)).all())
    return {"documents": int(docs), "extractions": int(exts), "outbox": {k: int(v) for k, v in outbox.items()},
            "outbox_types": {k: int(v) for k, v in by_type.items()}}
