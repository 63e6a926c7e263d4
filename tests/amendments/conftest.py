"""The real embedded stack (SQLite, file blobs, rule extractor) with a worker drained by hand."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

DEVSET = Path(__file__).resolve().parents[2] / ".." / "shared" / "devset"
if not DEVSET.exists():
    DEVSET = Path("/work/shared/devset")


class Stack:
    """Services, two organisations and helpers to upload and process documents."""

    def __init__(self, tmp: Path) -> None:
        from pipeline.bootstrap import build
        from pipeline.handlers import build_handlers
        from pipeline.keys import create_key
        from pipeline.settings import load_settings
        from pipeline.worker import Worker

        self.settings = load_settings(ATLAS_DATA_DIR=str(tmp), FLASK_ENV="development")
        self.svc = build(self.settings, migrate=True)
        self.worker = Worker(self.svc.queue, build_handlers(self.svc, with_index=False))
        org_a, self.key_a, _ = create_key("org-a", uow_factory=self.svc.uow_factory,
                                          pepper=self.settings.api_key_pepper)
        org_b, self.key_b, _ = create_key("org-b", uow_factory=self.svc.uow_factory,
                                          pepper=self.settings.api_key_pepper)
        self.org_a, self.org_b = org_a.id, org_b.id

    def upload(self, org_id: str, filename: str, data: bytes, *, process: bool = True) -> str:
        """Ingest bytes as the org's document; process the queue unless told not to."""
        from pipeline.usecases.ingest import ingest

        doc, _ = ingest(org_id, filename, data, uow_factory=self.svc.uow_factory, blobs=self.svc.blobs,
                        check_upload=self.svc.check_upload)
        if process:
            self.worker.drain(timeout_s=120)
        return doc.id

    def upload_devset(self, org_id: str, rel: str) -> str:
        return self.upload(org_id, Path(rel).name, (DEVSET / rel).read_bytes())

    def document(self, org_id: str, doc_id: str):  # type: ignore[no-untyped-def]
        with self.svc.uow_factory() as uow:
            return uow.documents.get(org_id, doc_id)

    def consolidated(self, org_id: str, doc_id: str) -> dict:
        from pipeline.usecases.consolidate import consolidated_terms

        return consolidated_terms(org_id, doc_id, uow_factory=self.svc.uow_factory, blobs=self.svc.blobs)


@pytest.fixture()
def stack(tmp_path: Path) -> Stack:
    return Stack(tmp_path / "data")


@pytest.fixture(scope="session")
def devset() -> Path:
    """The shared devset folder (documents and truth.jsonl)."""
    return DEVSET


@pytest.fixture(scope="session")
def truth() -> dict[str, dict]:
    import json

    path = DEVSET / "truth.jsonl"
    if not path.exists():
        pytest.skip(f"devset truth not found at {path}")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["file"]: r for r in rows}
