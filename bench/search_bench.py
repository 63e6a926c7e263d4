"""Search bench: query p95 at 100k chunks, end-to-end indexing throughput, recall@5 on the devset questions.

Run: python -m bench.search_bench  (prints JSON)
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bench import search_devset
from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter
from pipeline.index.chunk import chunk_document, embedding_text
from pipeline.index.retrieve import Retriever, RetrieverConfig
from pipeline.ports import Chunk, Embedder

log = logging.getLogger(__name__)

QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "search" / "questions.jsonl"
DEVSET_ORG = "org-devset"
CHUNK_CHARS = 600
CHUNK_OVERLAP = 100


def questions() -> list[dict[str, Any]]:
    """The search question set: question, expected document stem and page, evidence quote."""
    return [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]


def devset_context(stem: str) -> str:
    """Document context prefixed to chunks: what the extraction says (the devset truth stands in for it)."""
    fields = search_devset.truth()[stem]["fields"]
    parts = [fields.get(k) for k in ("tenant", "landlord", "premises_address")]
    return " | ".join(str(p) for p in parts if p)


def devset_chunks(*, context: bool = True, org_id: str = DEVSET_ORG, max_chars: int = CHUNK_CHARS,
                  overlap: int = CHUNK_OVERLAP, stems: Sequence[str] | None = None) -> list[Chunk]:
    """Chunks of every devset document with a text layer."""
    out: list[Chunk] = []
    for stem in stems or search_devset.text_documents():
        meta = {"filename": Path(search_devset.truth()[stem]["file"]).name}
        if context:
            meta["context"] = devset_context(stem)
        out += chunk_document(search_devset.load(stem), org_id=org_id, document_id=stem, max_chars=max_chars,
                              overlap=overlap, metadata=meta)
    return out


def build_index(root: Path, chunks: Sequence[Chunk], embedder: Embedder, *, batch: int = 128) -> float:
    """Embed and write chunks as one new generation (chunk → embed → upsert → publish); returns seconds."""
    t0 = time.perf_counter()
    writer = ChromaIndexWriter(root)
    with writer.batch() as w:
        for i in range(0, len(chunks), batch):
            part = chunks[i:i + batch]
            w.upsert(part, embedder.embed([embedding_text(c) for c in part]))
    return time.perf_counter() - t0


def recall_at_k(retrieve: Callable[[str], list[Any]], qs: Sequence[dict[str, Any]], k: int = 5) -> float:
    """Share of questions with the expected document+page among the top k hits."""
    found = 0
    for q in qs:
        hits = retrieve(q["question"])[:k]
        if any(h.chunk.document_id == q["document"] and h.chunk.page == q["page"] for h in hits):
            found += 1
    return found / len(qs)


def measure_recall(embedder: Embedder, *, k: int = 5, context: bool = True,
                   max_chars: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP, root: Path | None = None) -> dict[str, float]:
    """recall@k for vector-only, lexical and hybrid retrieval over the devset index (built unless root is given)."""
    own = root is None
    root = root or Path(tempfile.mkdtemp(prefix="atlas-recall-"))
    try:
        if own:
            build_index(root, devset_chunks(context=context, max_chars=max_chars, overlap=overlap), embedder)
        reader = ChromaIndexReader(root)
        qs = questions()
        out = {}
        for name, hybrid in (("vector", False), ("hybrid", True)):
            r = Retriever(reader, embedder, RetrieverConfig(hybrid=hybrid, use_llama_index=False))
            out[f"recall@{k}_{name}"] = round(recall_at_k(lambda q, r=r: r.retrieve(DEVSET_ORG, q, top_k=k), qs, k), 3)
        lex = Retriever(reader, embedder)
        out[f"recall@{k}_lexical"] = round(recall_at_k(lambda q: lex.lexical_search(DEVSET_ORG, q, top_k=k), qs, k), 3)
        out["questions"] = len(qs)
        reader.close()
        return out
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def bench_queries(n: int, *, seed: int = 11) -> list[str]:
    """n distinct queries: the question set, then 5-10 word phrases cut from the devset text."""
    rng = np.random.default_rng(seed)
    out = [q["question"] for q in questions()]
    words = [w for c in devset_chunks(context=False) for w in c.text.split()]
    seen = set(out)
    while len(out) < n:
        start = int(rng.integers(0, len(words) - 10))
        phrase = " ".join(words[start:start + int(rng.integers(5, 11))])
        if phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    return out[:n]


def synthetic_generation(root: Path, *, total_chunks: int, dimension: int, orgs: int = 1, seed: int = 7,
                         batch: int = 5000) -> float:
    """Write total_chunks synthetic chunks (devset text, random unit vectors) in large batches; returns seconds.

    With orgs=1 every chunk belongs to the queried organisation: the worst case, since each organisation
    has its own collection and lexical table.
    """
    rng = np.random.default_rng(seed)
    texts = [(c.text, c.section) for c in devset_chunks(context=False)]
    t0 = time.perf_counter()
    with ChromaIndexWriter(root).batch(fresh=True) as w:
        for i in range(0, total_chunks, batch):
            n = min(batch, total_chunks - i)
            chunks = []
            for j in range(i, i + n):
                text, section = texts[j % len(texts)]
                org = DEVSET_ORG if j % orgs == 0 else f"org-{j % orgs}"
                chunks.append(Chunk(id=f"syn-{j}", org_id=org, document_id=f"syn-doc-{j // 40}", page=1 + j % 40,
                                    start=0, end=len(text), text=text, section=section,
                                    metadata={"filename": f"syn-{j // 40}.pdf"}))
            vecs = rng.normal(size=(n, dimension)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            w.upsert(chunks, vecs)
    return time.perf_counter() - t0


def _percentiles(times_ms: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(times_ms, 50)), 1),
            "p95_ms": round(float(np.percentile(times_ms, 95)), 1),
            "max_ms": round(float(np.max(times_ms)), 1)}


def query_latency(embedder: Embedder, *, total_chunks: int = 100_000, queries: int = 200, orgs: int = 1,
                  root: Path | None = None) -> dict[str, Any]:
    """p50/p95 of retrieval (no LLM) at total_chunks: with the query embedding and without it (vector given)."""
    own = root is None
    root = root or Path(tempfile.mkdtemp(prefix="atlas-p95-"))
    try:
        out: dict[str, Any] = {"chunks": total_chunks, "orgs": orgs, "queries": queries}
        if own:
            out["build_s"] = round(synthetic_generation(root, total_chunks=total_chunks,
                                                        dimension=embedder.dimension, orgs=orgs), 1)
        qs = bench_queries(queries)
        embedder.embed(qs[:1])  # model load, not timed below
        embed_ms = []
        vectors = []
        for q in qs:
            t = time.perf_counter()
            vectors.append(embedder.embed([q])[0])
            embed_ms.append((time.perf_counter() - t) * 1000)
        out["query_embedding"] = _percentiles(embed_ms)
        reader = ChromaIndexReader(root, check_interval_s=1.0)
        for name, config in (("hybrid_direct", RetrieverConfig(hybrid=True, use_llama_index=False)),
                             ("hybrid_llama", RetrieverConfig(hybrid=True, use_llama_index=True)),
                             ("vector_direct", RetrieverConfig(hybrid=False, use_llama_index=False))):
            r = Retriever(reader, embedder, config)
            t = time.perf_counter()
            r.retrieve(DEVSET_ORG, qs[0], top_k=5)
            figures: dict[str, Any] = {"first_query_ms": round((time.perf_counter() - t) * 1000, 1)}
            without, with_embed = [], []
            for q, v in zip(qs, vectors):
                t = time.perf_counter()
                r.retrieve(DEVSET_ORG, q, top_k=5, vector=v)
                without.append((time.perf_counter() - t) * 1000)
            for q in qs:
                t = time.perf_counter()
                r.retrieve(DEVSET_ORG, q, top_k=5)
                with_embed.append((time.perf_counter() - t) * 1000)
            figures["without_embedding"] = _percentiles(without)
            figures["with_embedding"] = _percentiles(with_embed)
            out[name] = figures
        reader.close()
        return out
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def indexing_throughput(embedder: Embedder, root: Path) -> dict[str, Any]:
    """End-to-end chunks/s on the devset text documents: load, chunk, embed, upsert, publish a generation."""
    embedder.embed(["warm up"])
    search_devset.load.cache_clear()
    t0, c0 = time.perf_counter(), time.process_time()
    chunks = devset_chunks()
    build_index(root, chunks, embedder)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"chunks": len(chunks), "seconds": round(dt, 1), "chunks_per_s": round(len(chunks) / dt, 1),
            "cpu_s": round(cpu, 1), "chunks_per_cpu_s": round(len(chunks) / cpu, 1)}


def _real_embedder(runtime: str | None = None) -> Embedder:
    """The shipped embedder as the settings build it (int8 ONNX by default; runtime overrides)."""
    from pipeline.adapters.chroma_search import build_embedder
    from pipeline.settings import load_settings

    settings = load_settings(**({"ATLAS_EMBED_RUNTIME": runtime} if runtime else {}))
    return build_embedder(settings)


def compare_recall(runtimes: Sequence[str] = ("torch", "onnx-int8")) -> dict[str, Any]:
    """recall@5 (vector, lexical, hybrid) on the devset questions with each embedder runtime, back to back."""
    out: dict[str, Any] = {"loadavg_start": _load()}
    for runtime in runtimes:
        embedder = _real_embedder(runtime)
        embedder.embed(["warm up"])
        t = time.perf_counter()
        out[runtime] = measure_recall(embedder)
        out[runtime]["index_and_recall_s"] = round(time.perf_counter() - t, 1)
        out[runtime]["embedder"] = type(getattr(embedder, "fallback", None) or embedder).__name__
    out["loadavg_end"] = _load()
    return out


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run() -> dict[str, Any]:
    """Every search figure as one JSON-able dict (load averages say whether the machine was quiet)."""
    embedder = _real_embedder()
    result: dict[str, Any] = {"loadavg_start": _load(), "cores": os.cpu_count(),
                              "embedder": type(embedder).__name__}
    root = Path(tempfile.mkdtemp(prefix="atlas-search-bench-"))
    try:
        result["indexing"] = indexing_throughput(embedder, root / "devset")
        result["loadavg_after_indexing"] = _load()
        result.update(measure_recall(embedder, root=root / "devset"))
        result["query_latency"] = query_latency(embedder, root=None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["loadavg_end"] = _load()
    result["goals"] = {"query_p95_ms": 50, "indexing_chunks_per_s": 40}
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if sys.argv[1:] == ["--compare-recall"]:
        figures = compare_recall()
        out = Path(__file__).resolve().parent / "results" / "recall_embedders.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures, indent=2))
    else:
        print(json.dumps(run(), indent=2))
