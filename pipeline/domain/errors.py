"""Domain errors: what went wrong, in words a user and a machine can both act on."""
from __future__ import annotations


class AtlasError(Exception):
    """Base of every error Atlas raises on purpose; carries a stable machine code."""

    code = "atlas_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidDocument(AtlasError):
    """The uploaded bytes cannot be accepted or parsed (empty, unsupported, encrypted, corrupt, too large)."""

    code = "invalid_document"


class NotFound(AtlasError):
    """The thing asked for does not exist for this organisation."""

    code = "not_found"


class Conflict(AtlasError):
    """The request clashes with the current state."""

    code = "conflict"


class Unauthorized(AtlasError):
    """No valid credential was presented."""

    code = "unauthorized"


class ValidationFailed(AtlasError):
    """The request itself is malformed."""

    code = "validation_failed"


class TransientError(AtlasError):
    """A dependency failed in a way that a retry may fix."""

    code = "transient"


class PermanentError(AtlasError):
    """A failure a retry cannot fix; the work ends failed."""

    code = "permanent"


class WriterBusy(TransientError):
    """Another index writer holds the lease; it picks up work committed before it releases."""

    code = "index_writer_busy"
