"""A real Atlas server on loopback (waitress in a thread, embedded runtime, in-process worker)."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


class LiveServer:
    """Base URL, services and a key for one running server."""

    def __init__(self, tmp: Path, **overrides: object) -> None:
        from werkzeug.serving import make_server

        from api.app import create_app
        from pipeline.bootstrap import build
        from pipeline.cli import start_worker
        from pipeline.keys import create_key
        from pipeline.settings import load_settings

        settings = load_settings(ATLAS_DATA_DIR=str(tmp), FLASK_ENV="development", **overrides)
        self.services = build(settings, migrate=True)
        self.app = create_app(self.services)
        self.worker = start_worker(self.services)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        _, self.key, _ = create_key("org-a", uow_factory=self.services.uow_factory,
                                    pepper=settings.api_key_pepper)
        _, self.other_key, _ = create_key("org-b", uow_factory=self.services.uow_factory,
                                          pepper=settings.api_key_pepper)

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.worker.stop(timeout_s=30)


@pytest.fixture()
def live(tmp_path: Path):
    srv = LiveServer(tmp_path / "data")
    yield srv
    srv.close()
