"""Search bench: query p95 at 100k chunks, end-to-end indexing throughput, recall@5 on the devset questions.

Run: python -m bench.search_bench  (prints JSON)
"""
from __future__ import annotations

import json
import logging
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


def build_index(root: Path, chunks: Sequence[Chunk], embedder: Embedder, *, batch: int = 64) -> float:
    """Embed and write chunks as one new generation; returns seconds taken."""
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
                   max_chars: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP) -> dict[str, float]:
    """recall@k for vector-only and hybrid retrieval over the devset index."""
    root = Path(tempfile.mkdtemp(prefix="atlas-recall-"))
    try:
        build_index(root, devset_chunks(context=context, max_chars=max_chars, overlap=overlap), embedder)
        reader = ChromaIndexReader(root)
        qs = questions()
        out = {}
        for name, hybrid in (("vector", False), ("hybrid", True)):
            r = Retriever(reader, embedder, RetrieverConfig(hybrid=hybrid))
            out[f"recall@{k}_{name}"] = recall_at_k(
                lambda q, r=r: r.retrieve(DEVSET_ORG, q, top_k=k), qs, k)
        lex = Retriever(reader, embedder)
        out[f"recall@{k}_lexical"] = recall_at_k(lambda q: lex.lexical_search(DEVSET_ORG, q, top_k=k), qs, k)
        reader.close()
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def query_latency(embedder: Embedder, *, total_chunks: int = 100_000, orgs: int = 4, repeats: int = 3,
                  seed: int = 7) -> dict[str, Any]:
    """p50/p95 of hybrid retrieval (query embedding included, no LLM) with total_chunks in the index.

    The devset chunks carry real embeddings; the bulk are copies of their text with random unit vectors,
    spread over `orgs` organisations, the queried one holding total_chunks/orgs of them.
    """
    rng = np.random.default_rng(seed)
    real = devset_chunks()
    root = Path(tempfile.mkdtemp(prefix="atlas-p95-"))
    try:
        t0 = time.perf_counter()
        writer = ChromaIndexWriter(root)
        with writer.batch() as w:
            w.upsert(real, embedder.embed([embedding_text(c) for c in real]))
            filler = total_chunks - len(real)
            step = 5000
            for i in range(0, filler, step):
                n = min(step, filler - i)
                chunks = []
                for j in range(i, i + n):
                    src = real[j % len(real)]
                    org = DEVSET_ORG if j % orgs == 0 else f"org-{j % orgs}"
                    chunks.append(Chunk(id=f"fill-{j}", org_id=org, document_id=f"fill-doc-{j // 40}", page=1,
                                        start=0, end=len(src.text), text=src.text, section=src.section,
                                        metadata={"filename": f"fill-{j // 40}.pdf"}))
                vecs = rng.normal(size=(n, embedder.dimension)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                w.upsert(chunks, vecs.tolist())
        build_s = time.perf_counter() - t0
        reader = ChromaIndexReader(root, check_interval_s=1.0)
        out: dict[str, Any] = {"chunks": total_chunks, "build_s": round(build_s, 1)}
        qs = [q["question"] for q in questions()]
        for name, config in (("hybrid_llama", RetrieverConfig(hybrid=True, use_llama_index=True)),
                             ("hybrid_direct", RetrieverConfig(hybrid=True, use_llama_index=False)),
                             ("vector_direct", RetrieverConfig(hybrid=False, use_llama_index=False))):
            r = Retriever(reader, embedder, config)
            t1 = time.perf_counter()
            r.retrieve(DEVSET_ORG, qs[0], top_k=5)  # warm: opens the generation, builds the org's BM25
            warm_s = time.perf_counter() - t1
            times = []
            for _ in range(repeats):
                for q in qs:
                    t = time.perf_counter()
                    r.retrieve(DEVSET_ORG, q, top_k=5)
                    times.append((time.perf_counter() - t) * 1000)
            out[name] = {"p50_ms": round(float(np.percentile(times, 50)), 1),
                         "p95_ms": round(float(np.percentile(times, 95)), 1), "first_query_s": round(warm_s, 2)}
        reader.close()
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def indexing_throughput(embedder: Embedder) -> dict[str, Any]:
    """End-to-end chunks/s: parse the devset text documents, chunk, embed, write and publish a generation."""
    root = Path(tempfile.mkdtemp(prefix="atlas-ingest-"))
    try:
        embedder.embed(["warm up"])
        search_devset.load.cache_clear()
        t0 = time.perf_counter()
        chunks = devset_chunks()
        build_index(root, chunks, embedder)
        dt = time.perf_counter() - t0
        return {"chunks": len(chunks), "seconds": round(dt, 1), "chunks_per_s": round(len(chunks) / dt, 1)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _real_embedder() -> Embedder:
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    return MiniLMEmbedder(threads=2)


def run() -> dict[str, Any]:
    """Every search figure as one JSON-able dict."""
    embedder = _real_embedder()
    result: dict[str, Any] = {}
    result["indexing"] = indexing_throughput(embedder)
    result.update(measure_recall(embedder))
    result["query_latency"] = query_latency(embedder)
    result["goals"] = {"query_p95_ms": 50, "indexing_chunks_per_s": 40}
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(run(), indent=2))
