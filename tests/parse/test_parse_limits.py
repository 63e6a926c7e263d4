"""Per-document limits: size, time (including a parser that ignores the deadline) and the error contract."""
from __future__ import annotations

import time

import pytest

import pipeline.parse as parse_pkg
from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, parse_document


def test_empty_and_too_large():
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"")
    assert info.value.code == "empty_file"
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"x" * 101, limits=ParseLimits(max_bytes=100))
    assert info.value.code == "too_large"


def test_expired_deadline_is_parse_timeout():
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"Landlord and Tenant agree." * 10, limits=ParseLimits(timeout_s=0.0))
    assert info.value.code == "parse_timeout"
    assert "seconds" in info.value.message


def test_stuck_parser_is_abandoned_at_the_deadline(monkeypatch):
    def stuck(data, limits, deadline, progress):
        time.sleep(6)  # stands in for a C call that never looks at the deadline
        raise AssertionError("should have been abandoned")

    monkeypatch.setattr(parse_pkg, "parser_for", lambda media_type: stuck)
    started = time.monotonic()
    with pytest.raises(InvalidDocument) as info:
        parse_document(b"plain text", limits=ParseLimits(timeout_s=0.2))
    assert info.value.code == "parse_timeout"
    assert time.monotonic() - started < 4


def test_bugs_are_not_disguised_as_bad_input(monkeypatch):
    def buggy(data, limits, deadline, progress):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(parse_pkg, "parser_for", lambda media_type: buggy)
    with pytest.raises(ZeroDivisionError):
        parse_document(b"plain text")


def test_lease_signal_and_warning():
    doc = parse_document(b"Minutes of the meeting. The weather was fine and lunch was served. " * 20)
    assert doc.metadata["is_lease"] is False
    assert doc.warnings and "lease" in doc.warnings[0]


def test_progress_runs_on_the_calling_thread_and_can_cancel(make):
    import threading

    caller = threading.get_ident()
    seen = []

    def progress(stage, detail):
        seen.append(threading.get_ident())
        raise RuntimeError("job cancelled")

    with pytest.raises(RuntimeError, match="job cancelled"):
        parse_document(make.text_pdf([make.lease_lines] * 3), progress=progress)
    assert seen and all(ident == caller for ident in seen)
