"""JSON log lines in the Cloud Logging format; configured only by entrypoints."""
from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

_SECRET_KEYS = ("key", "token", "secret", "password", "authorization")


class CloudLoggingFormatter(JsonFormatter):
    """severity/message/time plus request id, trace and whatever ids the call passed in `extra`."""

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["severity"] = record.levelname
        log_record["logger"] = record.name
        log_record.pop("levelname", None)
        rid = request_id_var.get()
        if rid:
            log_record["request_id"] = rid
        trace = trace_var.get()
        if trace:
            log_record["logging.googleapis.com/trace"] = trace
        for k in list(log_record):
            if any(s in k.lower() for s in _SECRET_KEYS) and k != "logging.googleapis.com/trace":
                log_record[k] = "[redacted]"


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Route every logger to one JSON handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(CloudLoggingFormatter("%(message)s %(levelname)s %(asctime)s",
                                               rename_fields={"asctime": "time"}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "chromadb", "httpx", "sentence_transformers", "waitress", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
