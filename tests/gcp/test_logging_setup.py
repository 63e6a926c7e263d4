"""The Cloud Logging formatter: secrets are redacted by field name, identifiers that merely end in _key are not."""
from __future__ import annotations

import io
import json
import logging

from pipeline.logging_setup import adopt_trace, configure_logging, trace_var


def _line(**extra: object) -> dict:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    logging.getLogger("atlas.test").info("probe", extra=extra)
    return json.loads(stream.getvalue().splitlines()[-1])


def test_secret_fields_are_redacted_and_identifiers_kept() -> None:
    line = _line(api_key="sk-1", openai_api_key="sk-2", access_token="t", client_secret="s", password="p",
                 authorization="Bearer x", lock_key=42, blob_key="sha256/ab/ab", idempotency_key="i-1",
                 document_id="d-1")
    for name in ("api_key", "openai_api_key", "access_token", "client_secret", "password", "authorization"):
        assert line[name] == "[redacted]", name
    assert (line["lock_key"], line["blob_key"], line["idempotency_key"], line["document_id"]) == \
        (42, "sha256/ab/ab", "i-1", "d-1")


def test_a_job_adopts_only_a_well_formed_trace() -> None:
    token = trace_var.set(None)
    try:
        adopt_trace("projects/p/traces/abc123")
        assert _line()["logging.googleapis.com/trace"] == "projects/p/traces/abc123"
        trace_var.set(None)
        adopt_trace("projects/p/traces/x y; drop")
        assert "logging.googleapis.com/trace" not in _line()
    finally:
        trace_var.reset(token)
