"""Signed-URL uploads: reserve → PUT to the staging object → complete (API call or storage notification)."""
from __future__ import annotations

import dataclasses
import hashlib
import uuid
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent

REPO = Path(__file__).resolve().parents[2]
LEASE = REPO.parent / "shared" / "devset" / "docs" / "D036.txt"


@pytest.fixture()
def gcp(pg_database, gcs_emulator, pubsub_env, signing_credentials, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The API on gcp-shaped services: Cloud Storage and Pub/Sub emulators, Postgres."""
    from api.app import create_app
    from pipeline.adapters.gcs_blobstore import GcsBlobStore
    from pipeline.bootstrap import build
    from pipeline.keys import create_key
    from pipeline.settings import load_settings

    if not LEASE.exists():
        pytest.skip(f"devset lease missing: {LEASE}")
    bucket = f"atlas-up-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    settings = load_settings(runtime="gcp", database_url=pg_database, gcs_bucket=bucket, gcp_project="atlas-test",
                             pubsub_topic_prefix=f"up{uuid.uuid4().hex[:6]}", data_dir=tmp_path)
    svc = build(settings)
    svc.blobs.client.create_bucket(bucket)
    svc.bus.ensure_topics()
    svc = dataclasses.replace(svc, blobs=GcsBlobStore(svc.blobs.client, bucket,
                                                      signing_credentials=signing_credentials))
    _, key, _ = create_key(f"uploads-{uuid.uuid4().hex[:6]}", uow_factory=svc.uow_factory,
                           pepper=settings.api_key_pepper)
    client = create_app(svc).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    yield svc, client
    svc.engine.dispose()


def _reserve(client, data: bytes, **over):  # type: ignore[no-untyped-def]
    body = {"filename": "../../Big Lease.txt", "content_type": "text/plain", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **over}
    return client.post("/v1/uploads", json=body)


def _outbox_events(svc, doc_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from pipeline.adapters import sql_tables as t

    with svc.engine.connect() as conn:
        rows = conn.execute(select(t.outbox.c.type, t.outbox.c.payload, t.outbox.c.status)).all()
    return [f"{r.type}:{r.status}" for r in rows if r.payload.get("document_id") == doc_id]


def test_reserve_then_complete_verifies_and_queues_once(gcp) -> None:  # type: ignore[no-untyped-def]
    svc, client = gcp
    data = LEASE.read_bytes()
    resp = _reserve(client, data)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    doc_id = body["document_id"]
    assert f"/uploads/{doc_id}?" in body["upload_url"] and "X-Goog-Signature=" in body["upload_url"]
    assert body["upload_headers"]["x-goog-content-length-range"] == f"0,{len(data)}"
    assert body["expires_at"]
    doc = client.get(f"/v1/documents/{doc_id}").get_json()
    assert (doc["status"], doc["progress"]["stage"]) == ("queued", "awaiting_upload")
    assert _outbox_events(svc, doc_id) == []  # nothing is processed before the bytes are verified

    missing = client.post(f"/v1/uploads/{doc_id}/complete")
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (409, "upload_missing")

    svc.blobs.bucket.blob(f"uploads/{doc_id}").upload_from_string(data)  # the client's PUT
    done = client.post(f"/v1/uploads/{doc_id}/complete")
    assert done.status_code == 202, done.get_json()
    digest = hashlib.sha256(data).hexdigest()
    assert done.get_json()["content_hash"] == digest
    assert done.get_json()["filename"] == ".._.._Big Lease.txt"
    names = sorted(b.name for b in svc.blobs.client.list_blobs(svc.blobs.bucket_name))
    assert names == [f"sha256/{digest[:2]}/{digest}"]  # staging object removed, content-addressed copy kept
    assert _outbox_events(svc, doc_id) == ["document.uploaded:done"]  # relayed to Pub/Sub by the request

    again = client.post(f"/v1/uploads/{doc_id}/complete")
    assert again.status_code == 200
    assert _outbox_events(svc, doc_id) == ["document.uploaded:done"]

    dup = _reserve(client, data)
    dup_id = dup.get_json()["document_id"]
    svc.blobs.bucket.blob(f"uploads/{dup_id}").upload_from_string(data)
    dup_done = client.post(f"/v1/uploads/{dup_id}/complete").get_json()
    assert (dup_done["id"], dup_done["duplicate"]) == (doc_id, True)
    assert client.get(f"/v1/documents/{dup_id}").status_code == 404


def test_bytes_that_do_not_match_the_declared_hash_fail_the_document(gcp) -> None:  # type: ignore[no-untyped-def]
    svc, client = gcp
    data = LEASE.read_bytes()
    doc_id = _reserve(client, data).get_json()["document_id"]
    svc.blobs.bucket.blob(f"uploads/{doc_id}").upload_from_string(data[:-10] + b"tampered!!")
    resp = client.post(f"/v1/uploads/{doc_id}/complete")
    assert (resp.status_code, resp.get_json()["error"]["code"]) == (422, "checksum_mismatch")
    doc = client.get(f"/v1/documents/{doc_id}").get_json()
    assert (doc["status"], doc["error_code"]) == ("failed", "checksum_mismatch")
    assert not svc.blobs.exists(f"uploads/{doc_id}")


def test_reservations_are_validated(gcp) -> None:  # type: ignore[no-untyped-def]
    svc, client = gcp
    assert _reserve(client, b"x", sha256="nothex").status_code == 400
    assert _reserve(client, b"x", size=svc.settings.max_upload_bytes + 1).status_code == 413
    assert _reserve(client, b"x", content_type="not a type").status_code == 400
    assert client.post("/v1/uploads", data="nope").status_code == 400
    assert client.post("/v1/uploads", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_object_finalize_notification_completes_the_upload(gcp) -> None:  # type: ignore[no-untyped-def]
    import jobs.dispatcher as dispatcher
    from jobs.wiring import dispatch_deps

    svc, client = gcp
    data = LEASE.read_bytes() + b"\nnotification copy\n"
    doc_id = _reserve(client, data).get_json()["document_id"]
    svc.blobs.bucket.blob(f"uploads/{doc_id}").upload_from_string(data)
    deps = dispatch_deps(svc, jobs_client=object())
    ce = CloudEvent({"type": dispatcher.STORAGE_FINALIZED, "source": "//storage.googleapis.com/b"},
                    {"bucket": svc.blobs.bucket_name, "name": f"uploads/{doc_id}"})
    dispatcher.handle_cloud_event(ce["type"], ce["source"], ce.data, deps)
    doc = client.get(f"/v1/documents/{doc_id}").get_json()
    assert (doc["status"], doc["progress"]["stage"]) == ("queued", "queued")
    assert _outbox_events(svc, doc_id) == ["document.uploaded:done"]
    dispatcher.handle_cloud_event(ce["type"], ce["source"], ce.data, deps)  # redelivered notification
    assert _outbox_events(svc, doc_id) == ["document.uploaded:done"]
