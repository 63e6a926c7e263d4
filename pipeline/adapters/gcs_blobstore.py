"""Cloud Storage blob store: content-addressed object names, CRC32C-verified transfers, V4 signed upload URLs."""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from pipeline.adapters.fs_blobstore import blob_key_for
from pipeline.domain.errors import NotFound, TransientError, ValidationFailed

log = logging.getLogger(__name__)

_KEY = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{64})$")
_STAGING = re.compile(r"^uploads/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CHUNK = 1024 * 1024


def key_for_hash(content_hash: str) -> str:
    """The object name for bytes with this SHA-256 hex digest (the only names Atlas ever writes)."""
    if not re.fullmatch(r"[0-9a-f]{64}", content_hash or ""):
        raise ValidationFailed("content hash must be 64 lowercase hex characters (SHA-256)")
    return f"sha256/{content_hash[:2]}/{content_hash}"


def hash_of_key(key: str) -> str | None:
    """The SHA-256 a well-formed object name claims, or None for any other name."""
    m = _KEY.match(key or "")
    return m.group(2) if m and m.group(1) == m.group(2)[:2] else None


def staging_key(document_id: str) -> str:
    """Where a signed-URL upload lands before it is verified: named by the server's document id."""
    key = f"uploads/{document_id}"
    if not _STAGING.match(key):
        raise ValidationFailed("document id must be a UUID")
    return key


def is_staging_key(key: str) -> bool:
    """Whether key names a not-yet-verified upload."""
    return bool(_STAGING.match(key or ""))


@dataclass(frozen=True)
class SignedUpload:
    """Where and how a client PUTs bytes directly to the bucket."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


class GcsBlobStore:
    """Blobs in one bucket; keys are validated so no caller chooses an object name."""

    def __init__(self, client: Any, bucket: str, *, signing_credentials: Any = None,
                 signed_url_ttl: timedelta = timedelta(minutes=15), timeout_s: float = 60.0) -> None:
        self.client = client
        self.bucket_name = bucket
        self.bucket = client.bucket(bucket)
        self.signing_credentials = signing_credentials
        self.signed_url_ttl = signed_url_ttl
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Any) -> "GcsBlobStore":
        """A store on ATLAS_GCS_BUCKET with Application Default Credentials (the emulator via its own env)."""
        from google.cloud import storage

        if not settings.gcs_bucket:
            raise ValueError("ATLAS_GCS_BUCKET must be set for ATLAS_RUNTIME=gcp")
        return cls(storage.Client(project=settings.gcp_project), settings.gcs_bucket)

    def _check_key(self, key: str) -> str:
        if hash_of_key(key) is None and not is_staging_key(key):
            raise ValidationFailed(f"invalid blob key {key!r}")
        return key

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        """Upload bytes under their SHA-256 name (skipped when present); CRC32C checked by the server and client."""
        from google.api_core import exceptions as gexc

        key = blob_key_for(data)
        blob = self.bucket.blob(key)
        try:
            if blob.exists(timeout=self.timeout_s):
                return key
            # if_generation_match=0: never replace an object; same name means same bytes anyway
            blob.upload_from_string(data, content_type=content_type, checksum="crc32c", if_generation_match=0,
                                    timeout=self.timeout_s)
        except gexc.PreconditionFailed:
            return key
        except (gexc.ServiceUnavailable, gexc.InternalServerError, gexc.TooManyRequests,
                gexc.GatewayTimeout) as exc:
            raise TransientError(f"cloud storage unavailable: {type(exc).__name__}") from exc
        log.info("blob stored", extra={"blob_key": key, "bytes": len(data)})
        return key

    def get(self, key: str) -> bytes:
        """The object's bytes, CRC32C-verified; NotFound when absent."""
        from google.api_core import exceptions as gexc
        from google.resumable_media.common import DataCorruption

        blob = self.bucket.blob(self._check_key(key))
        try:
            return blob.download_as_bytes(checksum="crc32c", timeout=self.timeout_s)
        except gexc.NotFound as exc:
            raise NotFound("the stored file is missing") from exc
        except DataCorruption as exc:
            raise TransientError(f"blob {key} failed its checksum in transit") from exc
        except (gexc.ServiceUnavailable, gexc.InternalServerError, gexc.TooManyRequests,
                gexc.GatewayTimeout) as exc:
            raise TransientError(f"cloud storage unavailable: {type(exc).__name__}") from exc

    def read_bounded(self, key: str, max_bytes: int) -> bytes:
        """The bytes of an object no larger than max_bytes (ValidationFailed when larger)."""
        blob = self.bucket.get_blob(self._check_key(key), timeout=self.timeout_s)
        if blob is None:
            raise NotFound("the stored file is missing")
        if blob.size is not None and blob.size > max_bytes:
            raise ValidationFailed(f"object is {blob.size} bytes; the limit is {max_bytes}")
        return self.get(key)

    def sha256_of(self, key: str, max_bytes: int) -> tuple[str, int]:
        """Stream the object and return (SHA-256 hex, size); refuses objects above max_bytes."""
        blob = self.bucket.get_blob(self._check_key(key), timeout=self.timeout_s)
        if blob is None:
            raise NotFound("the stored file is missing")
        if blob.size is not None and blob.size > max_bytes:
            raise ValidationFailed(f"object is {blob.size} bytes; the limit is {max_bytes}")
        digest = hashlib.sha256()
        size = 0
        for chunk in self._chunks(blob):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def _chunks(self, blob: Any) -> Iterator[bytes]:
        with blob.open("rb", chunk_size=_CHUNK) as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        """Remove the object (no error when already gone)."""
        from google.api_core import exceptions as gexc

        try:
            self.bucket.blob(self._check_key(key)).delete(timeout=self.timeout_s)
        except gexc.NotFound:
            log.debug("blob already gone", extra={"blob_key": key})

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        return bool(self.bucket.blob(self._check_key(key)).exists(timeout=self.timeout_s))

    def check(self) -> None:
        """Readiness: the bucket answers."""
        if not self.bucket.exists(timeout=self.timeout_s):
            raise OSError(f"bucket {self.bucket_name} not found")

    def signed_upload_url(self, key: str, content_type: str, size: int, *,
                          now: datetime | None = None) -> SignedUpload:
        """A V4 signed PUT URL for one staging object, this content type and at most `size` bytes.

        Content-addressed objects are shared by every document with those bytes, so clients never get to write them.
        """
        if not is_staging_key(key):
            raise ValidationFailed("signed uploads go to a staging object (uploads/<document id>)")
        if size <= 0:
            raise ValidationFailed("size must be positive")
        now = now or datetime.now(timezone.utc)
        headers = {"Content-Type": content_type, "x-goog-content-length-range": f"0,{size}"}
        kwargs: dict[str, Any] = dict(version="v4", method="PUT", expiration=self.signed_url_ttl,
                                      content_type=content_type,
                                      headers={"x-goog-content-length-range": f"0,{size}"})
        creds = self.signing_credentials or getattr(self.client, "_credentials", None)
        if creds is not None and hasattr(creds, "sign_bytes"):
            kwargs["credentials"] = creds
        elif creds is not None:
            # Cloud Run's metadata-server credentials cannot sign locally: sign through IAM signBlob
            import google.auth.transport.requests

            creds.refresh(google.auth.transport.requests.Request())
            kwargs["service_account_email"] = creds.service_account_email
            kwargs["access_token"] = creds.token
        url = self.bucket.blob(key).generate_signed_url(**kwargs)
        return SignedUpload(url=url, method="PUT", headers=headers, expires_at=now + self.signed_url_ttl)
