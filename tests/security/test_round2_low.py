"""Issue #16, low: huge offsets, replayed Idempotency-Keys of deleted documents, and 429s kept out of ERROR logs."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from security_support import LEASE, Api, make_api


def test_offset_beyond_any_listing_is_a_400_not_a_500(api: Api) -> None:
    for offset in ("99999999999999999999", "1000000001", "-1"):
        r = api.client().get(f"/v1/documents?offset={offset}", headers=api.auth(api.key_a))
        assert r.status_code == 400, (offset, r.status_code)
        assert r.get_json()["error"]["code"] == "validation_failed"
    assert api.client().get("/v1/documents?offset=1000000000", headers=api.auth(api.key_a)).status_code == 200


def test_replaying_an_upload_key_after_the_document_was_deleted_is_a_conflict(api: Api) -> None:
    h = {**api.auth(api.key_a), "Idempotency-Key": "upload-1"}

    def send():  # type: ignore[no-untyped-def]
        return api.client().post("/v1/documents", headers=h, data={"file": (io.BytesIO(LEASE), "l.txt")})

    first = send()
    assert first.status_code == 202
    assert send().headers.get("Idempotent-Replayed") == "true"
    doc_id = first.get_json()["id"]
    assert api.client().delete(f"/v1/documents/{doc_id}", headers=api.auth(api.key_a)).status_code == 204
    r = send()
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "idempotency_target_deleted"


def test_rate_limited_requests_are_not_logged_as_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    api = make_api(tmp_path, ATLAS_RATE_LIMIT_PER_MINUTE=2)
    caplog.set_level(logging.INFO)
    codes = [api.client().get("/v1/documents", headers=api.auth(api.key_a)).status_code for _ in range(6)]
    codes += [api.client().get("/blockchain-events").status_code for _ in range(6)]
    assert codes.count(429) == 8
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
