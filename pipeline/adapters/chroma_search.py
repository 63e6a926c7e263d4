"""Search wiring from Settings: embedder, Chroma reader/writer, retriever, answer LLM, extraction lookup."""
from __future__ import annotations

import logging
import threading
import time
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


WARM_ORGS = 50  # organisations warmed per generation: the rest load on their first query


def warm_retriever(retriever: Retriever, *, dimension: int | None = None) -> str | None:
    """Load what a first query needs: the published generation, each organisation's vector and lexical
    indexes (llama-index included), and the embedder; returns the generation warmed."""
    reader = retriever.source
    generation = reader.warm()
    dim = dimension or int(getattr(retriever.embedder, "dimension", 0) or 384)
    probe = [1.0] + [0.0] * (dim - 1)
    for org_id in reader.org_ids()[:WARM_ORGS]:
        retriever.vector_search(org_id, "warm up", top_k=1, vector=probe)
        retriever.lexical_search(org_id, "rent", top_k=1)
    retriever.embedder.embed(["warm up"])
    return generation


class SearchWarmer:
    """Background thread: warms the retriever at start, then again whenever the published generation changes."""

    def __init__(self, svc: Any, *, poll_s: float = 2.0) -> None:
        self._svc = svc
        self._poll_s = poll_s
        self._stop = threading.Event()
        self.warmed: str | None = None
        self.ready = threading.Event()  # set once the first warm-up finished (or failed)
        self.thread = threading.Thread(target=self._run, name="search-warm", daemon=True)

    def start(self) -> "SearchWarmer":
        """Start warming in the background (never blocks the caller)."""
        self.thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop watching for new generations."""
        self._stop.set()
        self.thread.join(timeout_s)

    def _run(self) -> None:
        retriever = None
        while not self._stop.is_set():
            try:
                retriever = retriever or self._svc.lazy("retriever", lambda: build_retriever(self._svc.settings))
                current = retriever.source.generation
                if current != self.warmed:
                    started = time.monotonic()
                    self.warmed = warm_retriever(retriever)
                    log.info("search warmed", extra={"generation": self.warmed,
                                                     "duration_ms": round((time.monotonic() - started) * 1000)})
            except Exception:
                log.warning("search warm-up failed; queries load the index themselves", exc_info=True)
            self.ready.set()
            self._stop.wait(self._poll_s)


def warm_search(svc: Any, *, poll_s: float = 2.0) -> SearchWarmer:
    """Warm the search side of an API process in the background, and after every generation switch."""
    return svc.lazy("search_warmer", lambda: SearchWarmer(svc, poll_s=poll_s).start())


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
