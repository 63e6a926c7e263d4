"""The /v1 API through a real HTTP server: upload → ready → cited extraction; clear 4xx for bad requests."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

DEVSET = Path(__file__).resolve().parents[3] / "shared" / "devset"
LEASE = DEVSET / "docs" / "D034.txt"
TRACEBACK = re.compile(r"Traceback|File \"/")


def _wait_ready(live, doc_id: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(f"{live.url}/v1/documents/{doc_id}", headers=live.headers(), timeout=10).json()
        if body["status"] in ("ready", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"document {doc_id} not done after {timeout} s: {body}")


def _upload(live, path: Path, key: str | None = None) -> requests.Response:
    with path.open("rb") as fh:
        return requests.post(f"{live.url}/v1/documents", headers=live.headers(key),
                             files={"file": (path.name, fh)}, timeout=30)


@pytest.fixture(autouse=True)
def _need_devset():
    if not LEASE.exists():
        pytest.skip(f"devset lease not found at {LEASE}")


def test_upload_reaches_ready_with_cited_parties_and_date(live):
    resp = _upload(live, LEASE)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "queued" and body["status_url"] == f"/v1/documents/{body['id']}"
    doc = _wait_ready(live, body["id"])
    assert doc["status"] == "ready", doc
    ext = requests.get(f"{live.url}/v1/documents/{body['id']}/extraction", headers=live.headers(), timeout=10)
    assert ext.status_code == 200
    fields = ext.json()["fields"]
    text = LEASE.read_text(encoding="utf-8")
    for name in ("landlord", "tenant"):
        assert fields[name]["value"], f"{name} missing"
    dates = [fields[n] for n in ("commencement_date", "expiration_date") if fields[n]["value"]]
    assert dates, "no date extracted"
    for f in [fields["landlord"], fields["tenant"], dates[0]]:
        cite = f["citations"][0]
        assert cite["page"] == 1 and cite["quote"]
        assert " ".join(cite["quote"].split()) in " ".join(text.split())


def test_same_bytes_twice_return_the_existing_document(live):
    first = _upload(live, LEASE).json()
    second = _upload(live, LEASE)
    assert second.status_code == 200 and second.json()["id"] == first["id"] and second.json()["duplicate"]
    listed = requests.get(f"{live.url}/v1/documents", headers=live.headers(), timeout=10).json()["documents"]
    assert [d["id"] for d in listed] == [first["id"]]


def test_other_organisation_cannot_see_the_document(live):
    doc = _upload(live, LEASE).json()
    for path in (f"/v1/documents/{doc['id']}", f"/v1/documents/{doc['id']}/extraction"):
        resp = requests.get(live.url + path, headers=live.headers(live.other_key), timeout=10)
        assert resp.status_code == 404
    assert requests.delete(f"{live.url}/v1/documents/{doc['id']}", headers=live.headers(live.other_key),
                           timeout=10).status_code == 404
    listed = requests.get(f"{live.url}/v1/documents", headers=live.headers(live.other_key), timeout=10).json()
    assert listed["documents"] == []


def test_delete_removes_document_and_blob(live):
    doc = _upload(live, LEASE).json()
    _wait_ready(live, doc["id"])
    assert requests.delete(f"{live.url}/v1/documents/{doc['id']}", headers=live.headers(),
                           timeout=10).status_code == 204
    assert requests.get(f"{live.url}/v1/documents/{doc['id']}", headers=live.headers(),
                        timeout=10).status_code == 404
    blobs = [p for p in (live.services.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert blobs == []


@pytest.mark.parametrize("case", ["empty", "json_body", "no_file_field", "unknown_id", "no_key", "wrong_key",
                                  "bad_limit", "unknown_route"])
def test_bad_requests_get_clear_json_4xx(live, case, tmp_path):
    url, h = live.url, live.headers()
    if case == "empty":
        empty = tmp_path / "empty.pdf"
        empty.write_bytes(b"")
        resp, status = _upload(live, empty), 400
    elif case == "json_body":
        resp, status = requests.post(f"{url}/v1/documents", headers=h, json={"file": "x"}, timeout=10), 400
    elif case == "no_file_field":
        resp, status = requests.post(f"{url}/v1/documents", headers=h, files={"other": ("a.txt", b"x")},
                                     timeout=10), 400
    elif case == "unknown_id":
        resp, status = requests.get(f"{url}/v1/documents/does-not-exist", headers=h, timeout=10), 404
    elif case == "no_key":
        resp, status = requests.get(f"{url}/v1/documents", timeout=10), 401
    elif case == "wrong_key":
        resp, status = requests.get(f"{url}/v1/documents", headers={"Authorization": "Bearer atl_x_y"},
                                    timeout=10), 401
    elif case == "bad_limit":
        resp, status = requests.get(f"{url}/v1/documents?limit=abc", headers=h, timeout=10), 400
    else:
        resp, status = requests.get(f"{url}/v1/nothing-here", headers=h, timeout=10), 404
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["code"] and err["message"] and err["request_id"]
    assert not TRACEBACK.search(resp.text)


def test_health_ready_and_openapi(live):
    assert requests.get(f"{live.url}/health", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{live.url}/ready", timeout=5)
    assert ready.status_code == 200 and set(ready.json()["checks"].values()) == {"ok"}
    spec = requests.get(f"{live.url}/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.1") and "/v1/documents" in spec["paths"]


def test_cors_allows_listed_origins_only(live):
    ok = requests.options(f"{live.url}/v1/documents", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}, timeout=5)
    assert ok.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert ok.headers.get("Access-Control-Allow-Credentials") == "true"
    bad = requests.options(f"{live.url}/v1/documents", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in bad.headers
