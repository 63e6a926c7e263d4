"""Filesystem blob store: content-addressed by SHA-256, written atomically, never named after user input."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from pipeline.domain.errors import NotFound, ValidationFailed

_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{64}$")


def blob_key_for(data: bytes) -> str:
    """The key under which bytes are stored."""
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest}"


class FsBlobStore:
    """Blobs under one root directory; keys are validated so no caller can escape it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValidationFailed(f"invalid blob key {key!r}")
        return self.root / key

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        """Store bytes (no-op when already present) and return the key."""
        key = blob_key_for(data)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        """The bytes; NotFound when absent."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("the stored file is missing") from exc

    def delete(self, key: str) -> None:
        """Remove (idempotent)."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether the key holds bytes."""
        return self._path(key).exists()

    def check(self) -> None:
        """Readiness: the root is a writable directory."""
        if not self.root.is_dir() or not os.access(self.root, os.W_OK):
            raise OSError(f"blob root {self.root} is not writable")
