"""Webhooks: signed deliveries of document.ready / document.failed to a loopback receiver, retries, the log."""
from __future__ import annotations

import http.server
import io
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from api.app import create_app
from pipeline.adapters import sql_tables as t
from pipeline.bootstrap import build
from pipeline.domain.errors import ValidationFailed
from pipeline.handlers import build_handlers
from pipeline.keys import create_key
from pipeline.settings import load_settings
from pipeline.usecases.extract import fail_document
from pipeline.usecases.webhooks import backoff, check_url, deliver_due, http_post, sign, verify
from pipeline.worker import Worker

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. "
         b"(\"Tenant\").\nThe Term commences on March 1, 2025 and expires on February 28, 2030.\n")


class Receiver:
    """A loopback HTTP endpoint answering the status codes it is given, recording what it received."""

    def __init__(self, codes: list[int]) -> None:
        self.codes, self.got = list(codes), []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), body))
                self.send_response(outer.codes.pop(0) if outer.codes else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture()
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    svc = build(load_settings(ATLAS_DATA_DIR=str(tmp_path), ATLAS_RATE_LIMIT_PER_MINUTE=100_000), migrate=True)
    client = create_app(svc).test_client()
    _, key, _ = create_key("acme", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    _, other, _ = create_key("other", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    return svc, client, {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {other}"}


def _send(svc, **kw) -> int:  # type: ignore[no-untyped-def]
    return deliver_due(uow_factory=svc.uow_factory, post=http_post(timeout_s=5), allow_private=True, **kw)


def test_ready_document_is_delivered_signed_and_logged(world):
    svc, client, h, other = world
    rx = Receiver([200])
    try:
        r = client.post("/v1/webhooks", headers=h, json={"url": rx.url})
        assert r.status_code == 201, r.get_json()
        hook = r.get_json()
        assert hook["secret"].startswith("whsec_") and hook["events"] == ["document.failed", "document.ready"]
        assert "secret" not in client.get("/v1/webhooks", headers=h).get_json()["webhooks"][0]
        doc = client.post("/v1/documents", headers=h, data={"file": (io.BytesIO(LEASE), "lease.txt")}).get_json()
        Worker(svc.queue, build_handlers(svc, with_index=False)).drain(timeout_s=60)
        assert _send(svc) == 1 and _send(svc) == 0
        headers, body = rx.got[0]
        assert verify(hook["secret"], headers["Atlas-Signature"], body)
        assert not verify(hook["secret"], headers["Atlas-Signature"], body.replace(b"ready", b"READY"))
        sent = json.loads(body)
        assert sent["type"] == "document.ready" and sent["data"]["document_id"] == doc["id"]
        assert sent["data"]["version"] == 1
        log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=h).get_json()["deliveries"]
        assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("delivered", 1, 200)]
        assert client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=other).status_code == 404
        assert client.delete(f"/v1/webhooks/{hook['id']}", headers=other).status_code == 404
        assert client.delete(f"/v1/webhooks/{hook['id']}", headers=h).status_code == 204
    finally:
        rx.close()


def test_failures_are_retried_with_backoff_then_given_up(world):
    svc, client, h, _ = world
    rx = Receiver([500, 503, 500])
    try:
        hook = client.post("/v1/webhooks", headers=h, json={"url": rx.url, "events": ["document.failed"]}).get_json()
        doc = client.post("/v1/documents", headers=h, data={"file": (io.BytesIO(LEASE), "lease.txt")}).get_json()
        fail_document(doc["id"], "no_text", "no readable text", uow_factory=svc.uow_factory)
        assert _send(svc, max_attempts=3) == 1
        assert _send(svc, max_attempts=3) == 0  # not due yet: backing off
        for _ in range(2):  # move the clock: make the retry due now
            with svc.engine.begin() as conn:
                conn.execute(update(t.webhook_deliveries).values(next_attempt_at=t.webhook_deliveries.c.created_at))
            assert _send(svc, max_attempts=3) == 1
        log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=h).get_json()["deliveries"]
        assert [(d["status"], d["attempts"], d["last_error"]) for d in log] == [("failed", 3, "HTTP 500")]
        assert json.loads(rx.got[0][1])["data"]["error_code"] == "no_text" and len(rx.got) == 3
    finally:
        rx.close()


def test_signature_rules_and_backoff():
    body = b'{"a": 1}'
    now = int(time.time())
    header = sign("whsec_x", now, body)
    assert verify("whsec_x", header, body) and not verify("whsec_y", header, body)
    assert not verify("whsec_x", sign("whsec_x", now - 301, body), body)  # a replay from > 5 minutes ago
    assert not verify("whsec_x", "garbage", body)
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]


@pytest.mark.parametrize("url", ["ftp://example.com/x", "https://user:pw@example.com/", "not a url",
                                 "http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.8/x",
                                 "https://[::1]/x", "https://169.254.169.254/latest/meta-data"])
def test_production_refuses_private_plain_or_odd_urls(url: str):
    with pytest.raises(ValidationFailed):
        check_url(url, allow_private=False)


def test_bad_registrations_are_400(world):
    _, client, h, _ = world
    for body in ({}, {"url": "https://x.example", "events": ["document.deleted"]}, {"url": 5},
                 {"url": "https://x.example", "events": "document.ready"}, []):
        assert client.post("/v1/webhooks", headers=h, json=body).status_code == 400, body
