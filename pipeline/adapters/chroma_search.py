"""Search wiring from Settings: embedder, Chroma reader/writer, retriever, answer LLM, extraction lookup."""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Sequence

from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter
from pipeline.domain.errors import NotFound
from pipeline.domain.model import ExtractionResult
from pipeline.index.retrieve import Retriever, RetrieverConfig
from pipeline.ports import Embedder
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder (MiniLM shipped with the package; int8 ONNX unless ATLAS_EMBED_RUNTIME=torch)."""
    if settings.embedder != "minilm":
        raise ValueError(f"embedder {settings.embedder!r} is not available in this build; use minilm")
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    if settings.embed_runtime == "onnx-int8":
        from pipeline.adapters.onnx_embedder import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(settings.embed_cache_dir / "onnx", threads=2,
                                  fallback=lambda: MiniLMEmbedder(threads=2))
    return MiniLMEmbedder(threads=2)


def build_writer(settings: Settings, *, lock: Any = None) -> ChromaIndexWriter:
    """The single index writer over the configured Chroma root."""
    return ChromaIndexWriter(settings.chroma_path, lock=lock)


def build_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """Hybrid retriever over the published generation (CURRENT checked at most once a second)."""
    reader = ChromaIndexReader(settings.chroma_path, check_interval_s=1.0)
    embedder = embedder or build_embedder(settings)
    warm = getattr(embedder, "warm", None)
    if warm is not None:
        # Model load (~1-2 s) off the first query's path; a failure here resurfaces on that query.
        threading.Thread(target=_warm, args=(warm,), name="embedder-warm", daemon=True).start()
    return Retriever(reader, embedder, RetrieverConfig())


def _warm(warm: Callable[[], None]) -> None:
    try:
        warm()
    except Exception:
        log.warning("embedder warm-up failed; the first query will load it", exc_info=True)


def build_llm(settings: Settings) -> Any:
    """The answer LLM when an OpenAI-compatible endpoint is configured, else None (extractive answers)."""
    if not settings.openai_api_key:
        return None
    from pipeline.adapters.openai_chat import OpenAIChat

    return OpenAIChat(api_key=settings.openai_api_key, base_url=settings.openai_base_url,
                      model=settings.openai_model, timeout_s=settings.llm_timeout_s)


def extractions_lookup(uow_factory: Callable[[], Any]) -> Callable[[str, Sequence[str] | None],
                                                                    list[tuple[str, str, ExtractionResult]]]:
    """(org, document ids) → [(document id, file name, latest extraction result)] of that org only."""

    def lookup(org_id: str, document_ids: Sequence[str] | None) -> list[tuple[str, str, ExtractionResult]]:
        wanted = set(document_ids) if document_ids is not None else None
        rows = []
        with uow_factory() as uow:
            for ext in uow.extractions.list_latest(org_id):
                if ext.org_id != org_id or (wanted is not None and ext.document_id not in wanted):
                    continue
                try:
                    doc = uow.documents.get(org_id, ext.document_id)
                except NotFound:
                    continue
                rows.append((doc.id, doc.filename, ext.result))
        return rows

    return lookup
