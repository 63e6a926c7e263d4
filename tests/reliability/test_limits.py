"""Per-key rate limits on upload and query (429 + Retry-After), request size limits (413 JSON), outbound timeouts."""
from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.keys import create_key
from pipeline.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
LEASE = b"LEASE AGREEMENT\nbetween Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"


def _app(tmp: Path, **overrides: object):  # type: ignore[no-untyped-def]
    svc = build(load_settings(ATLAS_DATA_DIR=str(tmp), **overrides), migrate=True)
    app = create_app(svc)
    keys = [create_key(f"org-{i}", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)[1]
            for i in range(2)]
    return app.test_client(), keys


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_upload_and_query_are_rate_limited_per_key(tmp_path: Path):
    client, (a, b) = _app(tmp_path, ATLAS_RATE_LIMIT_PER_MINUTE=3)
    ups = [client.post("/v1/documents", headers=_h(a),
                       data={"file": (io.BytesIO(LEASE + bytes([i])), f"l{i}.txt")}).status_code for i in range(4)]
    assert ups[:3] == [202, 202, 202] and ups[3] == 429
    r = client.post("/v1/documents", headers=_h(a), data={"file": (io.BytesIO(LEASE), "l.txt")})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["error"]["code"] == "rate_limited"
    # query has its own bucket: upload traffic did not use it up (bad bodies are cheap and still count)
    qs = [client.post("/v1/query", headers=_h(a), json={}).status_code for _ in range(4)]
    assert qs == [400, 400, 400, 429]
    rq = client.post("/v1/query", headers=_h(a), json={"question": "rent?"})
    assert rq.status_code == 429 and int(rq.headers["Retry-After"]) >= 1
    # another key is not affected
    assert client.post("/v1/documents", headers=_h(b), data={"file": (io.BytesIO(LEASE), "l.txt")}).status_code == 202
    assert client.post("/v1/query", headers=_h(b), json={}).status_code == 400
    # reads are a separate group, so status polling keeps working while uploads are throttled
    assert client.get("/v1/documents", headers=_h(a)).status_code == 200


def test_bad_keys_cannot_spend_someone_elses_budget(tmp_path: Path):
    client, (a, _) = _app(tmp_path, ATLAS_RATE_LIMIT_PER_MINUTE=2)
    wrong = [client.post("/v1/query", headers=_h(a + "x"), json={}).status_code for _ in range(5)]
    assert wrong == [401, 401, 429, 429, 429]  # a wrong key is limited on its own budget...
    assert client.post("/v1/query", headers=_h(a), json={}).status_code == 400  # ...never the real key's


@pytest.mark.parametrize("size", [2 * 1024 * 1024, 1024 * 1024 + 10_000])
def test_oversized_upload_is_413_json(tmp_path: Path, size: int):
    client, (a, _) = _app(tmp_path, ATLAS_MAX_UPLOAD_BYTES=10_000)
    r = client.post("/v1/documents", headers=_h(a), data={"file": (io.BytesIO(b"A" * size), "big.txt")})
    assert r.status_code == 413, r.get_data(as_text=True)[:200]
    assert r.is_json and r.get_json()["error"]["code"]


def test_upload_just_over_the_file_limit_is_413_json(tmp_path: Path):
    client, (a, _) = _app(tmp_path, ATLAS_MAX_UPLOAD_BYTES=10_000)
    r = client.post("/v1/documents", headers=_h(a), data={"file": (io.BytesIO(LEASE * 200), "big.txt")})
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    assert client.get("/v1/documents", headers=_h(a)).get_json()["documents"] == []


def test_oversized_json_body_is_413_json(tmp_path: Path):
    client, (a, _) = _app(tmp_path, ATLAS_MAX_UPLOAD_BYTES=10_000)
    r = client.post("/v1/query", headers=_h(a), json={"question": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413 and r.is_json


_HTTP_CALLS = {("requests", "get"), ("requests", "post"), ("requests", "put"), ("requests", "patch"),
               ("requests", "delete"), ("requests", "head"), ("requests", "request"), ("httpx", "get"),
               ("httpx", "post"), ("httpx", "put"), ("httpx", "patch"), ("httpx", "delete"), ("httpx", "request"),
               ("httpx", "Client"), ("httpx", "AsyncClient"), ("urllib.request", "urlopen"), ("request", "urlopen")}


def _outbound_calls_without_timeout(root: Path) -> list[str]:
    bad = []
    for source in sorted(root.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = ast.unparse(node.func.value)
            if (owner, node.func.attr) in _HTTP_CALLS or (owner.endswith("session") and node.func.attr in
                                                           {"get", "post", "put", "delete", "request"}):
                if not any(k.arg == "timeout" for k in node.keywords):
                    bad.append(f"{source}:{node.lineno}: {ast.unparse(node)[:80]}")
    return bad


def test_every_outbound_http_call_has_a_timeout():
    bad = [b for folder in ("pipeline", "api", "jobs") if (REPO / folder).exists()
           for b in _outbound_calls_without_timeout(REPO / folder)]
    assert not bad, "outbound calls without timeout=:\n" + "\n".join(bad)


def test_the_timeout_check_can_fail(tmp_path: Path):
    (tmp_path / "m.py").write_text("import requests\nrequests.get('http://x')\nrequests.post('http://x', timeout=5)\n")
    assert len(_outbound_calls_without_timeout(tmp_path)) == 1
