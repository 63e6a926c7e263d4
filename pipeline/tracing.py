"""Optional OpenTelemetry tracing of llama-index and OpenAI calls to Phoenix (PHOENIX_COLLECTOR_ENDPOINT); off by default.

Packages (not core dependencies): openinference-instrumentation-llama-index==4.6.1,
openinference-instrumentation-openai==0.1.66, opentelemetry-exporter-otlp-proto-http==1.45.2
(opentelemetry-sdk==1.45.2 is already installed).
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

log = logging.getLogger(__name__)

_INSTRUMENTORS = (("openinference.instrumentation.llama_index", "LlamaIndexInstrumentor"),
                  ("openinference.instrumentation.openai", "OpenAIInstrumentor"))


def parse_headers(raw: str | None) -> dict[str, str]:
    """PHOENIX_CLIENT_HEADERS as 'k=v,k2=v2' (values are secrets: never logged)."""
    out: dict[str, str] = {}
    for part in (raw or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def traces_endpoint(endpoint: str) -> str:
    """Phoenix's OTLP/HTTP traces URL for a collector base URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def setup_tracing(settings: Any, *, service_name: str = "atlas") -> bool:
    """Instrument llama-index/OpenAI when configured; returns whether tracing is on. Missing packages: one warning."""
    endpoint = settings.phoenix_collector_endpoint
    if not endpoint:
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        instrumentors = [getattr(importlib.import_module(mod), cls) for mod, cls in _INSTRUMENTORS[:1]]
    except ImportError as exc:
        log.warning("PHOENIX_COLLECTOR_ENDPOINT is set but tracing packages are missing; continuing without "
                    "tracing", extra={"missing": exc.name})
        return False
    try:
        instrumentors.append(getattr(importlib.import_module(_INSTRUMENTORS[1][0]), _INSTRUMENTORS[1][1]))
    except ImportError:
        log.info("OpenAI instrumentation not installed; tracing llama-index only")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
        endpoint=traces_endpoint(endpoint), headers=parse_headers(settings.phoenix_client_headers))))
    for instrumentor in instrumentors:
        instrumentor().instrument(tracer_provider=provider)
    log.info("tracing to Phoenix enabled", extra={"service": service_name})
    return True
