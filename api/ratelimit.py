"""Per-key token-bucket rate limits (in-process; Cloudflare rate-limits at the edge as well)."""
from __future__ import annotations

import threading
import time

from pipeline.domain.errors import AtlasError


class RateLimited(AtlasError):
    """Too many requests for this key; retry after the given seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class RateLimiter:
    """`per_minute` requests per key per endpoint group, bursting to the same number."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, endpoint: str) -> None:
        """Take one token or raise RateLimited."""
        group = "upload" if "upload" in endpoint or "create_document" in endpoint else (
            "query" if "query" in endpoint else "read")
        bucket = f"{key}:{group}"
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(bucket, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[bucket] = (tokens, now)
                raise RateLimited(retry_after=max(1.0, (1.0 - tokens) / self.rate))
            self._buckets[bucket] = (tokens - 1.0, now)
