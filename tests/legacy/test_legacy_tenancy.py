"""Tenancy: user B never reads or shares user A's documents; production legacy calls need an API key."""
from __future__ import annotations

import io

import pytest

from pipeline.keys import create_key


def _register(client, user_id: str, headers=None, file_path=None) -> dict:  # type: ignore[no-untyped-def]
    body = {"file_path": file_path or "uploaded_documents/" + "b" * 64 + "/l.pdf", "title": "l.pdf",
            "sharing_type": "firm", "user_id": user_id, "user_email": f"{user_id}@example.com"}
    r = client.post("/register-document", json=body, headers=headers or {})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["document"]


def _reads(client, doc_id: str, activity_id: str, suffix: str = "", headers=None):  # type: ignore[no-untyped-def]
    h = headers or {}
    return {
        "document": client.get(f"/document/{doc_id}{suffix}", headers=h),
        "activities": client.get(f"/document-activities/{doc_id}{suffix}", headers=h),
        "sharing": client.get(f"/document-sharing-state/{doc_id}{suffix}", headers=h),
        "firm": client.post(f"/share-with-firm/{doc_id}{suffix}", json={}, headers=h),
        "external": client.post(f"/share-with-external/{doc_id}{suffix}", json={"shared_emails": ["x@y.z"]}, headers=h),
        "license": client.post(f"/create-license/{doc_id}{suffix}", json={"licensed_emails": ["x@y.z"],
                                                                          "monthly_fee": 5}, headers=h),
        "coop": client.post(f"/share-with-coop/{doc_id}{suffix}", json={"price_usdc": 5}, headers=h),
        "ledger": client.get(f"/activity/{activity_id}/ledger-events{suffix}", headers=h),
    }


def test_dev_user_b_cannot_reach_user_a_documents(env) -> None:
    doc = _register(env.client, "alice")
    act = doc["activities"][-1]["id"]
    env.client.post(f"/share-with-firm/{doc['id']}", json={"ledger_events": [{"id": "secret"}]})
    for name, r in _reads(env.client, doc["id"], act, "?user_id=bob").items():
        if name == "ledger":
            assert r.get_json()["ledger_events"] == [], name
        elif name == "activities":  # as for an unknown id: 200 with nothing in it
            assert r.status_code == 200 and r.get_json()["activities"] == []
        elif name == "sharing":
            assert r.status_code == 200 and r.get_json()["sharing_state"]["firm_shared"] is False
        else:
            assert r.status_code == 404, (name, r.status_code)
            assert r.get_json() == {"status": "error", "message": "Document not found"}
    assert env.client.get("/user-documents/bob").get_json()["count"] == 0
    # body user_id scopes the sharing routes too
    r = env.client.post(f"/share-with-firm/{doc['id']}", json={"user_id": "bob"})
    assert r.status_code == 404
    # alice still sees her own
    assert env.client.get(f"/document/{doc['id']}?user_id=alice").status_code == 200
    activities = env.client.get(f"/document-activities/{doc['id']}").get_json()["activities"]
    assert all(a["actor"] != "bob" for a in activities)


def test_production_requires_an_api_key(prod_env) -> None:
    c = prod_env.client
    for method, path, kw in (("post", "/upload", {"data": {"file": (io.BytesIO(b"x"), "a.txt")}}),
                             ("post", "/sync-user", {"json": {"user_id": "a", "email": "a@x"}}),
                             ("post", "/register-document", {"json": {"file_path": "x", "title": "t",
                                                                       "sharing_type": "private", "user_id": "a"}}),
                             ("get", "/user-documents/a", {}), ("get", "/document/abc-def", {}),
                             ("get", "/document-activities/abc-def", {}), ("get", "/document-sharing-state/abc-def", {}),
                             ("post", "/share-with-firm/abc-def", {"json": {}}),
                             ("get", "/activity/x/ledger-events", {}), ("post", "/classify-asset-type", {"json": {}}),
                             ("get", "/stream-key-terms?filename=x", {})):
        r = getattr(c, method)(path, **kw)
        assert r.status_code == 401, (path, r.status_code)
        assert r.get_json()["status"] == "error" and "Bearer" in r.get_json()["message"]
    r = c.get("/user-documents/a", headers={"Authorization": "Bearer atl_nope_nope"})
    assert r.status_code == 401


def test_production_keys_scope_users_documents_and_uploads(prod_env, lease_pdf) -> None:
    svc = prod_env.svc
    _, key_a, _ = create_key("firm-a", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    _, key_b, _ = create_key("firm-b", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    ha, hb = {"Authorization": f"Bearer {key_a}"}, {"Authorization": f"Bearer {key_b}"}
    c = prod_env.client
    assert c.post("/sync-user", json={"user_id": "alice", "email": "alice@example.com"}, headers=ha).status_code == 200
    token = c.post("/upload", data={"file": (io.BytesIO(lease_pdf), "lease.pdf")}, headers=ha).get_json()["filepath"]
    doc = _register(c, "alice", ha, file_path=token)
    assert c.get(f"/document/{doc['id']}", headers=ha).status_code == 200
    for name, r in _reads(c, doc["id"], doc["activities"][-1]["id"], headers=hb).items():
        if name == "ledger":
            assert r.get_json()["ledger_events"] == []
        elif name == "activities":  # as for an unknown id: 200 with nothing in it
            assert r.status_code == 200 and r.get_json()["activities"] == []
        elif name == "sharing":
            assert r.status_code == 200 and r.get_json()["sharing_state"]["firm_shared"] is False
        else:
            assert r.status_code == 404, name
    assert c.get("/user-documents/alice", headers=hb).get_json()["count"] == 0
    assert c.get("/user-documents/alice", headers=ha).get_json()["count"] == 1
    # org B cannot use org A's upload token; its "alice" is its own user, never org A's
    assert c.post("/classify-asset-type", json={"file_path": token}, headers=hb).status_code == 404
    assert c.get("/" + token, headers=hb).status_code == 404
    r = c.post("/register-document", json={"file_path": token, "title": "t", "sharing_type": "private",
                                           "user_id": "alice"}, headers=hb)
    assert r.status_code == 200
    assert c.get("/user-documents/alice", headers=ha).get_json()["count"] == 1
    assert c.get("/user-documents/alice", headers=hb).get_json()["count"] == 1
    assert c.get("/" + token, headers=hb).status_code == 404  # registering the token granted nothing


@pytest.mark.parametrize("host,ok", [("127.0.0.1", True), ("0.0.0.0", False)])
def test_trust_user_id_is_refused_on_a_public_address(tmp_path, host: str, ok: bool) -> None:
    from pipeline.settings import UnsafeSettings, load_settings

    s = load_settings(**{"ATLAS_DATA_DIR": str(tmp_path), "FLASK_ENV": "production", "INDEX_SERVER_KEY": "k" * 32,
                         "ATLAS_API_KEY_PEPPER": "p" * 32, "ATLAS_SINGLE_BOX": True,
                         "ATLAS_LEGACY_TRUST_USER_ID": True, "INDEX_SERVER_HOST": host})
    if ok:
        s.check_production()
    else:
        with pytest.raises(UnsafeSettings, match="ATLAS_LEGACY_TRUST_USER_ID"):
            s.check_production()


def test_user_ids_and_emails_are_per_organisation(prod_env) -> None:
    svc = prod_env.svc
    _, key_a, _ = create_key("firm-a", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    _, key_b, _ = create_key("firm-b", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    ha, hb = {"Authorization": f"Bearer {key_a}"}, {"Authorization": f"Bearer {key_b}"}
    c = prod_env.client
    # B takes A's user's email and A's user id first: neither blocks A, and B learns nothing about A
    r = c.post("/sync-user", json={"user_id": "b-1", "email": "alice@example.com"}, headers=hb)
    assert r.status_code == 200
    r = c.post("/sync-user", json={"user_id": "a-1", "email": "mallory@example.com", "name": "M"}, headers=hb)
    assert r.status_code == 200
    r = c.post("/sync-user", json={"user_id": "a-1", "email": "alice@example.com", "name": "Alice"}, headers=ha)
    assert r.status_code == 200 and r.get_json()["user"] == {**r.get_json()["user"], "id": "a-1",
                                                               "email": "alice@example.com", "name": "Alice"}
    assert _register(c, "a-1", ha)["user_id"] == "a-1"
    assert c.get("/user-documents/a-1", headers=ha).get_json()["count"] == 1
    assert c.get("/user-documents/a-1", headers=hb).get_json()["count"] == 0
    # within one organisation an email still names one user, and the message says so
    r = c.post("/sync-user", json={"user_id": "a-2", "email": "alice@example.com"}, headers=ha)
    assert r.status_code == 200  # with a key a new id takes over the row with that email (the app's re-login)
    r = c.post("/sync-user", json={"user_id": "b-2", "email": "mallory@example.com"}, headers=hb)
    assert r.status_code == 200
    r = c.post("/sync-user", json={"user_id": "b-1", "email": "mallory@example.com"}, headers=hb)
    assert r.status_code == 409 and "this organisation" in r.get_json()["error"]
