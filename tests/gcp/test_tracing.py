"""Phoenix tracing is off by default, degrades to one warning without its packages, and instruments when present."""
from __future__ import annotations

import logging
import sys
import types

import pytest

from pipeline.settings import load_settings
from pipeline.tracing import parse_headers, setup_tracing, traces_endpoint


def test_off_without_an_endpoint() -> None:
    assert setup_tracing(load_settings(phoenix_collector_endpoint=None)) is False


def test_missing_packages_log_one_warning_and_continue(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "openinference.instrumentation.llama_index", None)  # import fails
    with caplog.at_level(logging.WARNING, logger="pipeline.tracing"):
        assert setup_tracing(load_settings(phoenix_collector_endpoint="http://127.0.0.1:6006")) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "continuing without tracing" in warnings[0].getMessage()


def test_instruments_llama_index_with_an_otlp_exporter_when_installed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("opentelemetry.sdk.trace")
    calls: list = []

    class FakeInstrumentor:
        def instrument(self, tracer_provider) -> None:  # type: ignore[no-untyped-def]
            calls.append(tracer_provider)

    class FakeExporter:
        def __init__(self, endpoint: str, headers: dict) -> None:
            calls.append((endpoint, headers))

        def export(self, spans):  # type: ignore[no-untyped-def]
            return None

        def shutdown(self) -> None:
            return None

        def force_flush(self, timeout_millis: int = 0) -> bool:
            return True

    for name, attrs in (("openinference.instrumentation.llama_index", {"LlamaIndexInstrumentor": FakeInstrumentor}),
                        ("openinference.instrumentation.openai", {"OpenAIInstrumentor": FakeInstrumentor}),
                        ("opentelemetry.exporter.otlp.proto.http.trace_exporter",
                         {"OTLPSpanExporter": FakeExporter})):
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attrs))
    on = setup_tracing(load_settings(phoenix_collector_endpoint="http://phoenix:6006/",
                                     phoenix_client_headers="api_key=s3cret"))
    assert on is True
    assert calls[0] == ("http://phoenix:6006/v1/traces", {"api_key": "s3cret"})
    assert len(calls) == 3  # exporter + two instrumentors


def test_header_and_endpoint_parsing() -> None:
    assert parse_headers("a=1, b = 2,bad,") == {"a": "1", "b": "2"}
    assert traces_endpoint("http://x:6006/v1/traces") == "http://x:6006/v1/traces"
