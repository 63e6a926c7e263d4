"""Parse limits (bytes, pages, pixels, time, text size) and the per-document deadline that enforces time."""
from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.domain.errors import InvalidDocument

MiB = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    """Bounds a single parse must stay within; defaults match the product limits."""

    max_bytes: int = 50 * MiB
    max_pages: int = 1000
    max_page_pixels: int = 60_000_000
    timeout_s: float = 300.0
    max_text_chars: int = 20_000_000
    ocr_workers: int = 2
    ocr_enabled: bool = True
    ocr_dpi: int = 300
    ocr_language: str = "eng"
    tesseract_cmd: str = "tesseract"
    max_zip_uncompressed_bytes: int = 200 * MiB
    max_zip_ratio: int = 200

    def check_size(self, data: bytes) -> None:
        """Raise InvalidDocument when the file is empty ('empty_file') or over max_bytes ('too_large')."""
        if not data:
            raise InvalidDocument("The file is empty.", code="empty_file")
        if len(data) > self.max_bytes:
            raise InvalidDocument(f"The file is {len(data) / 1048576:.1f} MiB; the limit is "
                                  f"{self.max_bytes / 1048576:.0f} MiB.", code="too_large")


class Deadline:
    """A monotonic deadline; `check()` raises parse_timeout once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._cancelled = False

    def cancel(self) -> None:
        """End the time budget now (the caller gave up); work stops at its next check."""
        self._cancelled = True

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return 0.0 if self._cancelled else max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed or was cancelled."""
        return self._cancelled or time.monotonic() >= self._end

    def check(self) -> None:
        """Raise InvalidDocument('parse_timeout') when the deadline has passed."""
        if self.expired():
            raise timeout_error(self.seconds)


def timeout_error(seconds: float) -> InvalidDocument:
    """The error every timed-out parse ends with."""
    return InvalidDocument(f"The document took longer than {seconds:g} seconds to read and was abandoned.",
                           code="parse_timeout")
