"""What a Cloud Run job task knows about itself, and how it stops cleanly on SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from pydantic import Field

from pipeline.settings import Settings

log = logging.getLogger(__name__)


class JobSettings(Settings):
    """Settings plus the environment Cloud Run gives each task (CLOUD_RUN_TASK_INDEX, …)."""

    task_index: int = Field(0, alias="CLOUD_RUN_TASK_INDEX")
    task_count: int = Field(1, alias="CLOUD_RUN_TASK_COUNT")
    task_attempt: int = Field(0, alias="CLOUD_RUN_TASK_ATTEMPT")
    execution: str | None = Field(None, alias="CLOUD_RUN_EXECUTION")
    max_task_attempts: int = Field(3, alias="ATLAS_JOB_MAX_ATTEMPTS")
    document_ids: str = Field("", alias="ATLAS_DOCUMENT_IDS")
    # migrate job: which database user each component logs in as (granted its privileges after migrating)
    db_grants: str = Field("", alias="ATLAS_DB_GRANTS")
    # sweep job: when a document counts as stuck, and how often it is re-driven before it is failed
    sweep_queued_after_s: float = Field(900.0, alias="ATLAS_SWEEP_QUEUED_AFTER_S")
    sweep_processing_after_s: float = Field(3 * 3600.0, alias="ATLAS_SWEEP_PROCESSING_AFTER_S")
    sweep_upload_after_s: float = Field(3600.0, alias="ATLAS_SWEEP_UPLOAD_AFTER_S")
    sweep_max_redrives: int = Field(3, alias="ATLAS_SWEEP_MAX_REDRIVES")
    # the trace the dispatcher was handling when it started this execution (Cloud Logging trace resource name)
    trace: str | None = Field(None, alias="ATLAS_TRACE")

    @property
    def final_attempt(self) -> bool:
        """Whether Cloud Run will not retry this task again."""
        return self.task_attempt + 1 >= self.max_task_attempts


def load_job_settings(**overrides: Any) -> JobSettings:
    """Job settings from the environment, with explicit overrides (tests)."""
    return JobSettings(**overrides)  # type: ignore[arg-type]


def document_ids(argv: Sequence[str], settings: JobSettings) -> list[str]:
    """Ids from the command line (Cloud Run args overrides), else ATLAS_DOCUMENT_IDS; de-duplicated, ordered."""
    raw = list(argv) or settings.document_ids.split(",")
    return sorted({i.strip() for i in raw if i.strip()})


def shard(ids: Sequence[str], index: int, count: int) -> list[str]:
    """This task's share: every count-th id starting at index (stable for a given id list)."""
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"task index {index} outside 0..{count - 1}")
    return list(ids[index::count])


class JobTerminated(BaseException):
    """SIGTERM arrived during a document (BaseException so no `except Exception` swallows it)."""


class GracefulStop:
    """SIGTERM between documents stops the loop; during a document it interrupts so the document is released."""

    def __init__(self) -> None:
        self.requested = False
        self._in_document = False
        self._previous: Any = None

    def _on_term(self, signum: int, _frame: Any) -> None:
        self.requested = True
        log.warning("SIGTERM received", extra={"in_document": self._in_document})
        if self._in_document:
            self._in_document = False
            raise JobTerminated()

    @contextmanager
    def installed(self) -> Iterator["GracefulStop"]:
        """Handle SIGTERM for the duration (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        self._previous = signal.signal(signal.SIGTERM, self._on_term)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, self._previous)

    @contextmanager
    def document(self) -> Iterator[None]:
        """Mark the span where a SIGTERM must interrupt the work."""
        self._in_document = True
        try:
            yield
        finally:
            self._in_document = False
