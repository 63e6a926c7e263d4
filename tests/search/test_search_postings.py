"""Numpy BM25 postings written per organisation: same scores as in-memory BM25, filters, empty organisations."""
from __future__ import annotations

import pytest

from pipeline.index.postings import Postings, write_postings
from pipeline.index.retrieve import BM25, tokens
from pipeline.ports import Chunk

TEXTS = ["Holdover rent is 150% of Base Rent.", "Tenant may not sublet without Landlord consent.",
         "Base Rent is $2,500.00 per month, payable monthly.", "Rent rent rent: holdover holdover.",
         "The Premises are at 100 Main Street, Dallas."]


def _chunks() -> list[Chunk]:
    return [Chunk(id=f"c{i}", org_id="org-a", document_id=f"d{i % 2}", page=1, start=0, end=len(t), text=t,
                  section="", metadata={}) for i, t in enumerate(TEXTS)]


def _postings(tmp_path) -> Postings:
    rows = [(100 + i, " ".join(tokens(c.text)), c.document_id) for i, c in enumerate(_chunks())]
    assert write_postings(tmp_path / "p", rows) == len(TEXTS)
    return Postings(tmp_path / "p")


@pytest.mark.parametrize("query", ["holdover rent", "base rent $2,500.00", "sublet consent", "dallas premises"])
def test_postings_rank_and_score_like_in_memory_bm25(tmp_path, query):
    postings = _postings(tmp_path)
    expected = BM25(_chunks()).search(query, top_k=3)
    got = postings.top(tokens(query), top_k=3)
    assert [r - 100 for r, _ in got] == [int(h.chunk.id[1:]) for h in expected]
    assert [s for _, s in got] == pytest.approx([h.score for h in expected], rel=1e-5)


def test_postings_document_filter_unknown_terms_and_empty(tmp_path):
    postings = _postings(tmp_path)
    assert {r - 100 for r, _ in postings.top(["rent"], top_k=10, document_ids=["d1"])} == {3}
    assert postings.top(["rent"], top_k=10, document_ids=["nope"]) == []
    assert postings.top(["zzz", "x" * 200], top_k=10) == []
    write_postings(tmp_path / "empty", [])
    assert Postings(tmp_path / "empty").top(["rent"], top_k=5) == []


def test_generation_carries_postings_and_older_generations_fall_back_to_fts5(tmp_path):
    import shutil

    from fakes import FakeEmbedder

    from pipeline.adapters.chroma_index import ORGS, ChromaIndexReader, ChromaIndexWriter, org_folder_name
    from pipeline.adapters.chroma_lexical import POSTINGS_DIR
    from pipeline.index.chunk import embedding_text

    chunks = _chunks() + [Chunk(id="b0", org_id="org-b", document_id="b", page=1, start=0, end=10,
                                text="Holdover rent is 300%.", section="", metadata={})]
    with ChromaIndexWriter(tmp_path, grace_s=0).batch() as w:
        w.upsert(chunks, FakeEmbedder().embed([embedding_text(c) for c in chunks]))
    reader = ChromaIndexReader(tmp_path)
    generation = tmp_path / reader.generation
    folders = {org: generation / ORGS / org_folder_name(org) for org in ("org-a", "org-b")}
    assert all(len(list((f / POSTINGS_DIR).iterdir())) == 1 for f in folders.values())  # in each org's folder
    fast = [(h.chunk.id, h.chunk.org_id) for h in reader.lexical_search("org-a", "holdover rent", top_k=3)]
    assert fast and all(org == "org-a" for _, org in fast)
    reader.close()
    shutil.rmtree(folders["org-a"] / POSTINGS_DIR)  # a generation written before postings existed
    old = ChromaIndexReader(tmp_path)
    slow = [(h.chunk.id, h.chunk.org_id) for h in old.lexical_search("org-a", "holdover rent", top_k=3)]
    assert {cid for cid, _ in slow} == {cid for cid, _ in fast}
    old.close()
