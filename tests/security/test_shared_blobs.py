"""Blobs are shared by content across organisations: no delete may remove bytes someone else still references."""
from __future__ import annotations

import io
import threading
import time
from typing import Any, Iterator

import pytest

from security_support import LEASE, Api, make_api

from pipeline.legacy import records

ROUNDS = 15


def _upload_v1(api: Api, key: str, data: bytes, name: str = "lease.txt") -> dict:
    r = api.client().post("/v1/documents", headers=api.auth(key), data={"file": (io.BytesIO(data), name)})
    assert r.status_code in (200, 202), r.get_data(as_text=True)
    return r.get_json()


def _legacy_upload(api: Api, key: str, data: bytes, name: str) -> str:
    r = api.client().post("/upload", headers=api.auth(key), data={"file": (io.BytesIO(data), name)})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["filepath"]


def _viewer(api: Api, key: str, token: str) -> Any:
    return api.client().get("/" + token, headers=api.auth(key))


def test_deleting_a_document_keeps_bytes_another_orgs_upload_token_names(api: Api) -> None:
    token = _legacy_upload(api, api.key_a, LEASE, "alpha.txt")
    # A removes its own /v1 document behind the token: the token (registered document, PDF viewer) still works
    with api.svc.uow_factory() as uow:
        up = records.find_upload(uow.conn, token, None)
        doc_a = uow.documents.find_by_hash(up["org_id"], up["content_hash"])
    assert api.client().delete(f"/v1/documents/{doc_a.id}", headers=api.auth(api.key_a)).status_code == 204
    assert _viewer(api, api.key_a, token).status_code == 200
    # B uploads the same bytes and deletes them: A's token still serves them
    doc_b = _upload_v1(api, api.key_b, LEASE)
    assert api.client().delete(f"/v1/documents/{doc_b['id']}", headers=api.auth(api.key_b)).status_code == 204
    r = _viewer(api, api.key_a, token)
    assert r.status_code == 200 and r.data == LEASE
    assert api.svc.blobs.exists(up["blob_key"])


def test_bytes_are_deleted_once_nothing_references_them(api: Api) -> None:
    doc = _upload_v1(api, api.key_b, LEASE + b"only b\n")
    with api.svc.uow_factory() as uow:
        key = uow.documents.get(doc["org_id"] if "org_id" in doc else _org(api, api.key_b), doc["id"]).blob_key
    assert api.svc.blobs.exists(key)
    assert api.client().delete(f"/v1/documents/{doc['id']}", headers=api.auth(api.key_b)).status_code == 204
    assert not api.svc.blobs.exists(key)


def _org(api: Api, key: str) -> str:
    from pipeline.keys import authenticate

    return authenticate(key, uow_factory=api.svc.uow_factory, pepper=api.svc.settings.api_key_pepper)


class SlowPut:
    """The real blob store with a pause after each put: widens the window between storing bytes and committing
    the row that references them, where a concurrent delete used to remove them."""

    def __init__(self, inner: Any, pause_s: float = 0.05) -> None:
        self.inner = inner
        self.pause_s = pause_s

    def put(self, data: bytes, **kw: Any) -> str:
        key = self.inner.put(data, **kw)
        time.sleep(self.pause_s)
        return key

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(params=["sqlite", "postgres"])
def racing_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """SQLite (writers serialised by BEGIN IMMEDIATE) and Postgres (per-blob advisory locks)."""
    if request.param == "sqlite":
        yield make_api(tmp_path, blobs=SlowPut)
        return
    from support.postgres import fresh_database

    with fresh_database("atlas_blobs") as url:
        api = make_api(tmp_path, blobs=SlowPut, DATABASE_URL=url)
        yield api
        api.svc.engine.dispose()


def test_delete_racing_an_upload_of_the_same_bytes_never_loses_them(racing_api: Api) -> None:
    api = racing_api
    org_a = _org(api, api.key_a)
    lost = []
    for n in range(ROUNDS):
        data = LEASE + f"round {n}\n".encode()
        doc_b = _upload_v1(api, api.key_b, data)
        results: dict[str, Any] = {}

        def upload_a() -> None:
            results["a"] = _upload_v1(api, api.key_a, data)

        def delete_b() -> None:
            time.sleep(0.01)  # inside A's window: after A's put, before its row commits
            results["del"] = api.client().delete(f"/v1/documents/{doc_b['id']}",
                                                 headers=api.auth(api.key_b)).status_code

        threads = [threading.Thread(target=upload_a), threading.Thread(target=delete_b)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert results["del"] == 204
        with api.svc.uow_factory() as uow:
            doc_a = uow.documents.get(org_a, results["a"]["id"])
        if not api.svc.blobs.exists(doc_a.blob_key):
            lost.append(n)
    assert lost == [], f"A's bytes were deleted under it in rounds {lost}"
