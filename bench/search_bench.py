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


def _real_embedder() -> Embedder:
    from pipeline.adapters.minilm_embedder import MiniLMEmbedder

    return MiniLMEmbedder(threads=2)


def run() -> dict[str, Any]:
    """Every search figure as one JSON-able dict."""
    embedder = _real_embedder()
    result: dict[str, Any] = {}
    result.update(measure_recall(embedder))
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(run(), indent=2))
