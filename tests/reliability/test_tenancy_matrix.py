"""Every /v1 route: another organisation's ids give 404 (never 403 or data); bad keys give 401."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.handlers import build_handlers
from pipeline.keys import create_key
from pipeline.domain.model import utcnow
from pipeline.settings import load_settings
from pipeline.worker import Worker

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\n"
         b"Base Rent: $4,000.00 per month.\n")
PUBLIC = {("GET", "/v1/schema/extraction")}


class World:
    """Org A owns a processed document; org B holds a valid key and nothing else."""

    def __init__(self, tmp: Path) -> None:
        self.svc = build(load_settings(ATLAS_DATA_DIR=str(tmp), ATLAS_RATE_LIMIT_PER_MINUTE=100_000), migrate=True)
        self.app = create_app(self.svc)
        self.client = self.app.test_client()
        pepper = self.svc.settings.api_key_pepper
        _, self.key_a, _ = create_key("org-a", uow_factory=self.svc.uow_factory, pepper=pepper)
        _, self.key_b, _ = create_key("org-b", uow_factory=self.svc.uow_factory, pepper=pepper)
        _, self.expired, _ = create_key("org-a", uow_factory=self.svc.uow_factory, pepper=pepper,
                                        expires_at=utcnow() - timedelta(seconds=1))
        _, self.revoked, revoked_key = create_key("org-a", uow_factory=self.svc.uow_factory, pepper=pepper)
        with self.svc.uow_factory() as uow:
            uow.keys.revoke_key(revoked_key.id)
            uow.commit()
        r = self.client.post("/v1/documents", headers=self.h(self.key_a),
                             data={"file": (io.BytesIO(LEASE), "lease.txt")})
        assert r.status_code == 202, r.get_json()
        self.doc_a = r.get_json()["id"]
        Worker(self.svc.queue, build_handlers(self.svc, with_index=False)).drain(timeout_s=60)
        assert self.client.get(f"/v1/documents/{self.doc_a}", headers=self.h(self.key_a)).get_json()["status"] == "ready"
        hook = self.client.post("/v1/webhooks", headers=self.h(self.key_a), json={"url": "https://a.example/hook"})
        assert hook.status_code == 201, hook.get_json()
        self.hook_a = hook.get_json()["id"]

    @staticmethod
    def h(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


def _upload(w: World, headers: dict) -> Any:
    return w.client.post("/v1/documents", headers=headers, data={"file": (io.BytesIO(LEASE), "lease.txt")})


# (method, rule) -> (call with headers, check of org B's answer)
Call = Callable[[World, dict], Any]
Check = Callable[[World, Any], None]


def _is_404(w: World, r: Any) -> None:
    assert r.status_code == 404, (r.status_code, r.get_data(as_text=True))
    assert r.get_json()["error"]["code"] in ("not_found", "extraction_not_ready")
    assert w.doc_a not in r.get_data(as_text=True) or "not found" in r.get_json()["error"]["message"]


def _no_a_docs(w: World, r: Any) -> None:
    assert r.status_code == 200
    assert w.doc_a not in r.get_data(as_text=True)


def _own_hook_only(w: World, r: Any) -> None:
    assert r.status_code == 201 and r.get_json()["id"] != w.hook_a


def _no_a_hooks(w: World, r: Any) -> None:
    assert r.status_code == 200 and w.hook_a not in r.get_data(as_text=True)


def _no_a_xlsx(w: World, r: Any) -> None:
    import openpyxl

    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data))["Abstract"].iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][0] == "document_id"


def _b_upload_is_its_own(w: World, r: Any) -> None:
    # the same bytes as org A's document: B gets a new document of its own, never A's id or a "duplicate"
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["id"] != w.doc_a and body["duplicate"] is False


CASES: dict[tuple[str, str], tuple[Call, Check]] = {
    ("POST", "/v1/documents"): (_upload, _b_upload_is_its_own),
    ("GET", "/v1/documents"): (lambda w, h: w.client.get("/v1/documents", headers=h), _no_a_docs),
    ("GET", "/v1/documents/<doc_id>"): (lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/extraction"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/extraction", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/consolidated"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/consolidated", headers=h), _is_404),
    ("DELETE", "/v1/documents/<doc_id>"): (
        lambda w, h: w.client.delete(f"/v1/documents/{w.doc_a}", headers=h), _is_404),
    ("POST", "/v1/query"): (
        lambda w, h: w.client.post("/v1/query", headers=h,
                                   json={"question": "What is the rent?", "document_ids": [w.doc_a]}), _is_404),
    ("GET", "/v1/leases"): (lambda w, h: w.client.get("/v1/leases", headers=h), _no_a_docs),
    ("POST", "/v1/webhooks"): (lambda w, h: w.client.post("/v1/webhooks", headers=h, json={"url": "http://127.0.0.1:9/x"}),
                               lambda w, r: _own_hook_only(w, r)),
    ("GET", "/v1/webhooks"): (lambda w, h: w.client.get("/v1/webhooks", headers=h), lambda w, r: _no_a_hooks(w, r)),
    ("DELETE", "/v1/webhooks/<hook_id>"): (
        lambda w, h: w.client.delete(f"/v1/webhooks/{w.hook_a}", headers=h), _is_404),
    ("GET", "/v1/webhooks/<hook_id>/deliveries"): (
        lambda w, h: w.client.get(f"/v1/webhooks/{w.hook_a}/deliveries", headers=h), _is_404),
    ("PATCH", "/v1/documents/<doc_id>/extraction/fields/<name>"): (
        lambda w, h: w.client.patch(f"/v1/documents/{w.doc_a}/extraction/fields/tenant", headers=h,
                                    json={"value": "Mallory"}), _is_404),
    ("POST", "/v1/documents/<doc_id>/extraction/undo"): (
        lambda w, h: w.client.post(f"/v1/documents/{w.doc_a}/extraction/undo", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/extraction/versions"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/extraction/versions", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/extraction/compare"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/extraction/compare", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/export.json"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/export.json", headers=h), _is_404),
    ("GET", "/v1/documents/<doc_id>/pages/<n>.png"): (
        lambda w, h: w.client.get(f"/v1/documents/{w.doc_a}/pages/1.png", headers=h), _is_404),
    ("GET", "/v1/exports/abstract.csv"): (lambda w, h: w.client.get("/v1/exports/abstract.csv", headers=h), _no_a_docs),
    ("GET", "/v1/exports/abstract.xlsx"): (
        lambda w, h: w.client.get("/v1/exports/abstract.xlsx", headers=h), lambda w, r: _no_a_xlsx(w, r)),
    ("GET", "/v1/exports/critical-dates.ics"): (
        lambda w, h: w.client.get("/v1/exports/critical-dates.ics", headers=h), _no_a_docs),
    # registered in the gcp runtime only (signed-URL uploads)
    ("POST", "/v1/uploads"): (lambda w, h: w.client.post("/v1/uploads", headers=h, json={}), lambda w, r: None),
    ("POST", "/v1/uploads/<doc_id>/complete"): (
        lambda w, h: w.client.post(f"/v1/uploads/{w.doc_a}/complete", headers=h), _is_404),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("tenancy"))


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/v1")
            for m in r.methods - {"HEAD", "OPTIONS"}}


def test_every_v1_route_has_a_tenancy_case(world: World):
    """A new /v1 route (Flask url_map or OpenAPI document) without a case here fails this test."""
    from api.openapi import openapi_document

    missing = _routes(world.app) - set(CASES) - PUBLIC
    assert not missing, f"add tenancy cases for {sorted(missing)}"
    documented = {(m.upper(), p.replace("{", "<").replace("}", ">"))
                  for p, ops in openapi_document()["paths"].items() if p.startswith("/v1")
                  for m in ops if m in ("get", "post", "put", "patch", "delete")}
    assert documented - PUBLIC <= set(CASES), sorted(documented - PUBLIC - set(CASES))
    assert len(_routes(world.app) - PUBLIC) >= 7


BAD_KEYS: dict[str, Callable[[World], dict]] = {
    "none": lambda w: {},
    "empty_bearer": lambda w: {"Authorization": "Bearer "},
    "malformed": lambda w: {"Authorization": "Bearer not-a-key"},
    "wrong_scheme": lambda w: {"Authorization": f"Basic {w.key_a}"},
    "unknown": lambda w: {"Authorization": "Bearer atl_deadbeef_" + "x" * 43},
    "tampered": lambda w: {"Authorization": f"Bearer {w.key_a[:-2]}zz"},
    "revoked": lambda w: World.h(w.revoked),
    "expired": lambda w: World.h(w.expired),
    "x_api_key_revoked": lambda w: {"X-API-Key": w.revoked},
}


def test_bad_keys_get_401_on_every_route(world: World):
    routes = sorted(_routes(world.app) - PUBLIC)
    tried = 0
    for method, rule in routes:
        call, _ = CASES[(method, rule)]
        for name, headers in BAD_KEYS.items():
            r = call(world, headers(world))
            assert r.status_code == 401, (method, rule, name, r.status_code, r.get_data(as_text=True)[:200])
            body = r.get_json()
            assert body["error"]["code"] == "unauthorized"
            assert world.doc_a not in r.get_data(as_text=True)
            tried += 1
    assert tried == len(routes) * len(BAD_KEYS)
    # revoked/expired keys really were valid keys of org A (so 401 is about their state, not their shape)
    msgs = {n: call_msg for n, call_msg in (
        ("revoked", world.client.get("/v1/documents", headers=World.h(world.revoked)).get_json()["error"]["message"]),
        ("expired", world.client.get("/v1/documents", headers=World.h(world.expired)).get_json()["error"]["message"]))}
    assert "revoked" in msgs["revoked"] and "expired" in msgs["expired"]


def test_other_org_gets_404_never_403_or_data(world: World):
    # order matters: the DELETE attempt runs before the others re-check that A's document survived
    routes = sorted(_routes(world.app) - PUBLIC, key=lambda mr: (mr[0] == "DELETE", mr))
    for method, rule in routes:
        call, check = CASES[(method, rule)]
        r = call(world, World.h(world.key_b))
        assert r.status_code != 403 and r.status_code < 500, (method, rule, r.status_code)
        check(world, r)
    # org A still sees its document and its extraction, untouched by B's attempts
    ra = world.client.get(f"/v1/documents/{world.doc_a}", headers=World.h(world.key_a))
    assert ra.status_code == 200 and ra.get_json()["status"] == "ready"
    assert world.client.get(f"/v1/documents/{world.doc_a}/extraction",
                            headers=World.h(world.key_a)).status_code == 200


def test_org_a_gets_its_own_data_on_the_same_routes(world: World):
    """The positive control: with A's key the same calls succeed, so the 404s above are about tenancy."""
    h = World.h(world.key_a)
    assert world.client.get(f"/v1/documents/{world.doc_a}", headers=h).status_code == 200
    assert world.client.get(f"/v1/documents/{world.doc_a}/extraction", headers=h).status_code == 200
    if ("GET", "/v1/documents/<doc_id>/consolidated") in _routes(world.app):
        assert world.client.get(f"/v1/documents/{world.doc_a}/consolidated", headers=h).status_code == 200
    assert world.doc_a in world.client.get("/v1/documents", headers=h).get_data(as_text=True)
    assert world.doc_a in world.client.get("/v1/leases", headers=h).get_data(as_text=True)


def test_last_used_is_recorded(world: World):
    with world.svc.uow_factory() as uow:
        org = uow.keys.get_org_by_name("org-b")
        keys = uow.keys.list_keys(org.id)
    assert keys and all(k.last_used_at is not None for k in keys)
