"""Fixtures for the legacy API: real services on a temporary data dir, the worker in a thread, a loopback server."""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

DEVSET = Path(__file__).resolve().parents[2].parent / "shared" / "devset" / "docs"


def _build(tmp_path: Path, **overrides: Any):  # type: ignore[no-untyped-def]
    try:
        from pipeline.bootstrap import build
        from pipeline.settings import load_settings
    except ImportError as exc:  # the parser/extractor are built by other helpers
        pytest.skip(f"pipeline not importable yet: {exc}")
    settings = load_settings(**{"ATLAS_DATA_DIR": str(tmp_path), "ATLAS_LEGACY_WAIT_S": 30,
                                "DATABASE_URL": f"sqlite:///{tmp_path / 'atlas.db'}", **overrides})
    return build(settings, migrate=True)


class Env:
    """Services + app + a running worker."""

    def __init__(self, svc: Any, slow_parse: bool = False) -> None:
        from api.app import create_app
        from pipeline.handlers import build_handlers, on_dead_letter
        from pipeline.worker import Worker

        if slow_parse:
            svc = dataclasses.replace(svc, parse=_slow(svc.parse))
        self.svc = svc
        self.app = create_app(svc)
        self.client = self.app.test_client()
        # indexing is another helper's area and needs the embedding model: the legacy tests stop at extraction
        self.worker = Worker(svc.queue, build_handlers(svc, with_index=False), on_dead=on_dead_letter(svc),
                             poll_s=0.05)
        self.worker.start(1)

    def close(self) -> None:
        """Stop the worker."""
        self.worker.stop()


def _slow(parse):  # type: ignore[no-untyped-def]
    """The real parser, reporting OCR-like page progress slowly enough for a poller to see each step."""

    def wrapped(data: bytes, progress=None, **kw):  # type: ignore[no-untyped-def]
        for n in (1, 2, 3):
            if progress is not None:
                progress("ocr", f"ocr page {n} of 3")
            time.sleep(0.35)
        return parse(data, progress=progress, **kw)

    return wrapped


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(_build(tmp_path))
    yield e
    e.close()


@pytest.fixture()
def slow_env(tmp_path: Path) -> Iterator[Env]:
    e = Env(_build(tmp_path), slow_parse=True)
    yield e
    e.close()


@pytest.fixture()
def prod_env(tmp_path: Path) -> Iterator[Env]:
    e = Env(_build(tmp_path, FLASK_ENV="production", INDEX_SERVER_KEY="k" * 32, ATLAS_API_KEY_PEPPER="p" * 32,
                   ATLAS_SINGLE_BOX=True))
    yield e
    e.close()


class LiveServer:
    """The app on a loopback port (werkzeug, threaded)."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()


@pytest.fixture()
def live(env: Env) -> Iterator[LiveServer]:
    s = LiveServer(env.app)
    yield s
    s.close()


@pytest.fixture()
def slow_live(slow_env: Env) -> Iterator[LiveServer]:
    s = LiveServer(slow_env.app)
    yield s
    s.close()


def devset_doc(name: str) -> bytes:
    """A devset lease's bytes (skips when the shared devset is absent)."""
    path = DEVSET / name
    if not path.exists():
        pytest.skip(f"devset document {path} not available")
    return path.read_bytes()


@pytest.fixture()
def lease_pdf() -> bytes:
    """A text-layer devset lease (D001: Red Rock Business Park / Quarry Outdoor Supply)."""
    return devset_doc("D001.pdf")
