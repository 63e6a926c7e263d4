"""Issue #16, legacy side: no name-only lookup of others' uploads, registration grants nothing, the web app's
share flow, empty results for unknown ids, accepted labels, finite numbers, bounded bodies and names."""
from __future__ import annotations

import io
import json

import pytest


def _upload(client, data: bytes, name: str, query: str = "", headers=None):  # type: ignore[no-untyped-def]
    return client.post(f"/upload{query}", data={"file": (io.BytesIO(data), name)}, headers=headers or {})


def _sse_messages(resp) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line[6:]) for line in resp.get_data(as_text=True).splitlines() if line.startswith("data: ")]


def _register(client, **fields):  # type: ignore[no-untyped-def]
    body = {"file_path": "", "title": "l.pdf", "sharing_type": "private", "user_id": "alice", **fields}
    return client.post("/register-document", json=body)


def test_a_file_name_alone_finds_no_upload_without_an_identity(env, lease_pdf) -> None:
    token = _upload(env.client, lease_pdf, "alpha_secret.pdf", "?user_id=alice").get_json()["filepath"]
    r = env.client.get("/stream-key-terms?filename=alpha_secret.pdf")
    assert _sse_messages(r) == [{"status": "error", "error": "File not found"}]
    assert token not in r.get_data(as_text=True)
    # another user naming the file finds nothing either; its owner still finds it by name
    r = env.client.get("/stream-key-terms?filename=alpha_secret.pdf&user_id=bob")
    assert _sse_messages(r) == [{"status": "error", "error": "File not found"}]
    r = env.client.get("/stream-key-terms?filename=alpha_secret.pdf&user_id=alice")
    assert _sse_messages(r)[0]["status"] == "connected"


def test_registering_another_users_token_grants_no_access(env, lease_pdf) -> None:
    token = _upload(env.client, lease_pdf, "alpha.pdf", "?user_id=alice").get_json()["filepath"]
    r = _register(env.client, file_path=token, user_id="bob")
    assert r.status_code == 404 and r.get_json() == {"error": "File not found"}
    assert env.client.get(f"/{token}?user_id=bob").status_code == 404
    assert env.client.get(f"/{token}?user_id=alice").status_code == 200
    assert _register(env.client, file_path=token, user_id="alice").status_code == 200


def test_share_flow_of_the_detail_page_registers_with_an_empty_file_path(env) -> None:
    r = _register(env.client, sharing_type="external", shared_emails=["p@partner.example"])
    assert r.status_code == 200, r.get_json()
    doc = r.get_json()["document"]
    r = env.client.post(f"/share-with-external/{doc['id']}", json={"shared_emails": ["q@partner.example"]})
    assert r.status_code == 200
    assert env.client.post(f"/share-with-firm/{doc['id']}", json={}).status_code == 200
    state = env.client.get(f"/document-sharing-state/{doc['id']}").get_json()["sharing_state"]
    assert state["firm_shared"] and len(state["external_shares"]) == 2
    # absent keys are still refused, as the old backend did
    body = {"title": "t", "sharing_type": "private", "user_id": "alice"}
    r = env.client.post("/register-document", json=body)
    assert r.status_code == 400 and r.get_json() == {"error": "Missing required field: file_path"}


def test_unknown_document_ids_give_empty_activities_and_sharing_state(env) -> None:
    r = env.client.get("/document-activities/no-such-id")
    assert r.status_code == 200 and r.get_json() == {"status": "success", "activities": [], "count": 0}
    r = env.client.get("/document-sharing-state/no-such-id")
    assert r.status_code == 200 and r.get_json()["sharing_state"] == {
        "firm_shared": False, "firm_share_details": None, "external_shares": [], "licenses": [],
        "marketplace_status": None}


def test_unknown_route_uses_the_legacy_error_shape(env) -> None:
    r = env.client.get("/no-such-route")
    assert r.status_code == 404 and set(r.get_json()) == {"status", "message"}
    assert env.client.get("/v1/nothing-here").get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("field,value,ok", [
    ("asset_type", "warehouse", True), ("asset_type", "other", True), ("sharing_type", "team", True),
    ("asset_type", "x" * 33, False), ("sharing_type", "bad\nvalue", False), ("asset_type", "\u202eevil", False)])
def test_labels_the_old_backend_stored_are_accepted_unless_unsafe(env, field: str, value: str, ok: bool) -> None:
    r = _register(env.client, **{field: value})
    assert r.status_code == (200 if ok else 400), r.get_json()
    if ok:
        assert r.get_json()["document"][field] == value


def _raw(client, path: str, text: str):  # type: ignore[no-untyped-def]
    return client.post(path, data=text, content_type="application/json")


def test_infinity_and_nan_are_refused_in_fee_fields(env) -> None:
    doc = _register(env.client).get_json()["document"]
    base = '{"file_path": "", "title": "t", "sharing_type": "license", "user_id": "alice", "license_fee": %s}'
    for bad in ("Infinity", "NaN", "-Infinity", "1e999"):
        r = _raw(env.client, "/register-document", base % bad)
        assert r.status_code == 400, (bad, r.get_data(as_text=True))
        r = _raw(env.client, f"/create-license/{doc['id']}", '{"licensed_emails": ["a@b.c"], "monthly_fee": %s}' % bad)
        assert r.status_code == 400, bad
        r = _raw(env.client, f"/share-with-coop/{doc['id']}", '{"price_usdc": %s}' % bad)
        assert r.status_code == 400, bad
        r = _raw(env.client, "/add-blockchain-activity",
                 '{"document_id": "%s", "action": "X", "actor": "a", "revenue_impact": %s}' % (doc["id"], bad))
        assert r.status_code == 400, bad
    r = _raw(env.client, "/register-document", '{"file_path": "", "title": "t", "sharing_type": "private", '
                                               '"user_id": "alice", "extracted_data": {"x": NaN}}')
    assert r.status_code == 400
    # every stored document still reads back as strict JSON
    body = env.client.get("/user-documents/alice").get_data(as_text=True)
    json.loads(body, parse_constant=lambda c: pytest.fail(f"bare {c} in a response"))


def test_extracted_data_is_bounded(env) -> None:
    r = _register(env.client, extracted_data={"blob": "x" * (3 * 1024 * 1024)})
    assert r.status_code == 413 and "KiB" in r.get_json()["error"]


def test_a_long_file_name_yields_a_token_the_routes_accept(env, lease_pdf) -> None:
    name = "a" * 300 + ".pdf"
    token = _upload(env.client, lease_pdf, name).get_json()["filepath"]
    shown = token.rsplit("/", 1)[1]
    assert len(shown) == 255 and shown.endswith(".pdf")
    assert env.client.get("/" + token).status_code == 200
    assert env.client.post("/reclassify-asset-type", json={"file_path": token, "new_asset_type": "retail"}) \
        .status_code == 200


def test_a_missing_blob_does_not_reveal_its_storage_key(env, lease_pdf) -> None:
    token = _upload(env.client, lease_pdf, "gone.pdf").get_json()["filepath"]
    for path in (env.svc.settings.data_dir / "blobs").rglob("*"):
        if path.is_file():
            path.unlink()
    r = env.client.get("/" + token)
    assert r.status_code == 404
    assert "sha256/" not in r.get_data(as_text=True)


def test_upload_refused_by_the_pipeline_keeps_no_bytes(env) -> None:
    blobs = env.svc.settings.data_dir / "blobs"
    before = {p for p in blobs.rglob("*") if p.is_file()}
    exe = b"MZ\x90\x00" + b"\x00" * 4096
    for route in ("/upload", "/extract-summary"):
        r = _upload(env.client, exe, "tool.exe", headers={}) if route == "/upload" else \
            env.client.post(route, data={"file": (io.BytesIO(exe), "tool.exe")})
        assert r.status_code in (400, 415), (route, r.status_code)
        assert isinstance(r.get_json()["error"], str)
    r = env.client.post("/stream-key-terms", data={"file": (io.BytesIO(exe), "tool.exe")})
    assert _sse_messages(r)[0]["status"] == "error"
    assert {p for p in blobs.rglob("*") if p.is_file()} == before
