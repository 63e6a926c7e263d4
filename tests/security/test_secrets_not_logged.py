"""A full embedded run (keys, upload, processing, errors) never writes key material to the logs."""
from __future__ import annotations

import io
import logging
from pathlib import Path

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.handlers import build_handlers
from pipeline.keys import create_key
from pipeline.logging_setup import configure_logging
from pipeline.settings import load_settings
from pipeline.worker import Worker

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\n")


def test_api_keys_and_secrets_never_reach_the_logs(tmp_path: Path):
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        secret = "sk-test-" + "Z" * 32
        settings = load_settings(ATLAS_DATA_DIR=str(tmp_path), OPENAI_API_KEY=secret, INDEX_SERVER_KEY="i" * 20,
                                 ATLAS_API_KEY_PEPPER="pepper-" + "q" * 20)
        svc = build(settings, migrate=True)
        _, key, _ = create_key("acme", uow_factory=svc.uow_factory, pepper=settings.api_key_pepper)
        client = create_app(svc).test_client()
        h = {"Authorization": f"Bearer {key}"}
        resp = client.post("/v1/documents", headers=h, data={"file": (io.BytesIO(LEASE), "lease.txt")})
        assert resp.status_code == 202
        Worker(svc.queue, build_handlers(svc, with_index=False)).drain(timeout_s=60)
        client.get("/v1/documents", headers={"Authorization": f"Bearer {key}x"})  # a failed auth attempt
        client.get("/v1/documents", headers=h)
        logging.getLogger("atlas.test").info("probe", extra={"api_key": key})
    finally:
        logging.getLogger().handlers.clear()
    out = stream.getvalue()
    assert "document ingested" in out  # the log was captured at all
    for material in (key, key.split("_")[2], secret, "i" * 20, "q" * 20):
        assert material not in out
