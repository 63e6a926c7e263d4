"""Recall@5 of the real MiniLM + hybrid retriever on the devset question set."""
from __future__ import annotations

import pytest

from bench import search_bench, search_devset
from pipeline.adapters.chroma_index import ChromaIndexReader
from pipeline.index.retrieve import Retriever, RetrieverConfig

pytestmark = pytest.mark.skipif(not (search_devset.DEVSET / "truth.jsonl").exists(),
                                reason=f"shared devset not found at {search_devset.DEVSET}")

# Measured 2026-11: hybrid 1.00, vector-only 0.93 (28 questions, 600-char chunks, extraction context).
HYBRID_MIN_RECALL = 0.9


def test_question_set_evidence_is_on_the_expected_page():
    for q in search_bench.questions():
        page = search_devset.load(q["document"]).page(q["page"]).text
        assert " ".join(q["evidence"].split()) in " ".join(page.split()), q


@pytest.mark.slow
def test_hybrid_recall_at_5_on_the_devset_questions(minilm, tmp_path):
    search_bench.build_index(tmp_path, search_bench.devset_chunks(), minilm)
    reader = ChromaIndexReader(tmp_path)
    qs = search_bench.questions()
    hybrid = Retriever(reader, minilm, RetrieverConfig(hybrid=True))
    vector = Retriever(reader, minilm, RetrieverConfig(hybrid=False))
    r_hybrid = search_bench.recall_at_k(lambda q: hybrid.retrieve(search_bench.DEVSET_ORG, q, top_k=5), qs)
    r_vector = search_bench.recall_at_k(lambda q: vector.retrieve(search_bench.DEVSET_ORG, q, top_k=5), qs)
    assert r_hybrid >= HYBRID_MIN_RECALL
    assert r_hybrid >= r_vector
