"""JSON log lines in the Cloud Logging format; configured only by entrypoints."""
from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

# Field names whose values are secrets. Matched on whole words of the name (api_key, x-api-key, openai_api_key,
# access_token, client_secret), so identifiers such as lock_key, blob_key or idempotency_key stay readable.
_SECRET_NAME = re.compile(r"(^|[_\-.])(key|api[_\-]?key|apikey|token|secret|password|passwd|authorization|"
                          r"cookie|pepper|credentials?)$|^(x[_\-])?api[_\-]?key", re.IGNORECASE)
_NOT_SECRET = {"lock_key", "blob_key", "parsed_key", "idempotency_key", "cache_key", "key_id", "prefix_key",
               "logging.googleapis.com/trace"}


def is_secret_field(name: str) -> bool:
    """Whether a log field's name says its value is a secret."""
    return name.lower() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


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
            if is_secret_field(k):
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


def adopt_trace(trace: str | None) -> None:
    """Log under the trace this process was started for (a job's ATLAS_TRACE, a message's trace attribute)."""
    if trace and re.fullmatch(r"projects/[^/\s]+/traces/[0-9a-fA-F]{1,64}", trace):
        trace_var.set(trace)
