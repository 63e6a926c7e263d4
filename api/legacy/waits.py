"""A cap on legacy requests that wait for the pipeline: each holds an HTTP thread for up to ATLAS_LEGACY_WAIT_S.

Without it a handful of held streams (GET /stream-key-terms on a queued upload, /extract-*) took every server
thread and /health stopped answering. Past the cap the request gets 503 with Retry-After at once; at shutdown the
waits end early with a retryable error so the server can stop within its grace period.
"""
from __future__ import annotations

import threading
from typing import Callable

from flask import current_app

from pipeline.domain.errors import TransientError

RETRY_AFTER_S = 5.0


class Overloaded(TransientError):
    """Every wait slot is taken; retry after the given seconds."""

    code = "overloaded"

    def __init__(self, message: str, retry_after: float = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WaitSlots:
    """At most `limit` concurrent pipeline waits in this process; close() ends them (shutdown)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.closing = threading.Event()
        self._sem = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_use = 0

    def acquire(self) -> Callable[[], None]:
        """Take a slot or raise Overloaded; returns its release function (safe to call more than once)."""
        if self.closing.is_set():
            raise Overloaded("the server is shutting down; retry")
        if not self._sem.acquire(blocking=False):
            raise Overloaded(f"too many requests are waiting for the pipeline ({self.limit}); retry shortly")
        with self._lock:
            self.in_use += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self.in_use -= 1
            self._sem.release()

        return release

    def close(self) -> None:
        """Refuse new waits and make the running ones stop polling."""
        self.closing.set()


def wait_slots() -> WaitSlots:
    """The app's slots."""
    return current_app.extensions["atlas_wait_slots"]
