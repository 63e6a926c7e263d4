"""GcsBlobStore against the in-process Cloud Storage emulator; signed URLs with a locally generated key."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest

from pipeline.adapters.gcs_blobstore import GcsBlobStore, hash_of_key, key_for_hash, staging_key
from pipeline.domain.errors import NotFound, ValidationFailed


@pytest.fixture()
def store(gcs_bucket, signing_credentials):  # type: ignore[no-untyped-def]
    client, name = gcs_bucket
    return GcsBlobStore(client, name, signing_credentials=signing_credentials)


def test_put_names_object_by_sha256_and_get_returns_the_bytes(store) -> None:  # type: ignore[no-untyped-def]
    data = b"LEASE AGREEMENT\n" * 5000
    key = store.put(data, content_type="text/plain")
    digest = hashlib.sha256(data).hexdigest()
    assert key == f"sha256/{digest[:2]}/{digest}"
    assert store.exists(key)
    assert store.get(key) == data
    listed = [b.name for b in store.client.list_blobs(store.bucket_name)]
    assert listed == [key]


def test_put_of_known_bytes_is_a_no_op(store) -> None:  # type: ignore[no-untyped-def]
    assert store.put(b"same") == store.put(b"same")
    assert len(list(store.client.list_blobs(store.bucket_name))) == 1


def test_server_side_crc32c_matches_the_bytes(store) -> None:  # type: ignore[no-untyped-def]
    import base64

    import google_crc32c

    data = b"checksummed lease bytes" * 1000
    key = store.put(data)
    blob = store.bucket.get_blob(key)
    assert base64.b64decode(blob.crc32c) == google_crc32c.Checksum(data).digest()
    assert base64.b64decode(blob.md5_hash) == hashlib.md5(data).digest()


def test_missing_object_is_not_found_and_delete_is_idempotent(store) -> None:  # type: ignore[no-untyped-def]
    key = key_for_hash("0" * 64)
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)
    store.delete(key)
    k = store.put(b"to delete")
    store.delete(k)
    assert not store.exists(k)


@pytest.mark.parametrize("bad", ["../etc/passwd", "lease.pdf", "sha256/ab/" + "c" * 64, "sha256/aa/short"])
def test_user_chosen_names_are_refused(store, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        store.get(bad)
    with pytest.raises(ValidationFailed):
        store.signed_upload_url(bad, "application/pdf", 10)


def test_sha256_of_streams_and_bounds_by_size(store) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 12000  # > 1 chunk
    key = store.put(data)
    assert store.sha256_of(key, max_bytes=len(data)) == (hashlib.sha256(data).hexdigest(), len(data))
    with pytest.raises(ValidationFailed):
        store.sha256_of(key, max_bytes=len(data) - 1)


def test_check_fails_for_a_missing_bucket(gcs_bucket) -> None:  # type: ignore[no-untyped-def]
    client, name = gcs_bucket
    GcsBlobStore(client, name).check()
    with pytest.raises(OSError):
        GcsBlobStore(client, name + "-missing").check()


def test_signed_upload_url_is_v4_put_for_that_object_and_expires(store) -> None:  # type: ignore[no-untyped-def]
    key = staging_key("0b7c5a1e-2f4d-4c6b-9a8e-1d2c3b4a5f60")
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    signed = store.signed_upload_url(key, "application/pdf", 1234, now=now)
    url = urlparse(signed.url)
    q = parse_qs(url.query)
    assert url.path.endswith(f"/{store.bucket_name}/{key}")
    assert q["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert q["X-Goog-Expires"] == ["900"]
    assert q["X-Goog-Credential"][0].startswith("atlas-api@atlas-test.iam.gserviceaccount.com/")
    signed_headers = q["X-Goog-SignedHeaders"][0].split(";")
    assert {"content-type", "host", "x-goog-content-length-range"} <= set(signed_headers)
    assert len(q["X-Goog-Signature"][0]) == 512  # RSA-2048 signature, hex
    assert signed.method == "PUT"
    assert signed.headers == {"Content-Type": "application/pdf", "x-goog-content-length-range": "0,1234"}
    assert signed.expires_at == now + timedelta(minutes=15)


def test_content_addressed_objects_are_never_signed_for_clients(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        store.signed_upload_url(key_for_hash("a" * 64), "application/pdf", 10)
    with pytest.raises(ValidationFailed):
        staging_key("../lease.pdf")


def test_key_helpers_round_trip() -> None:
    digest = hashlib.sha256(b"a").hexdigest()
    assert hash_of_key(key_for_hash(digest)) == digest
    assert hash_of_key("uploads/lease.pdf") is None
    with pytest.raises(ValidationFailed):
        key_for_hash("lease.pdf")
