"""The writer persists BM25 (FTS5) per organisation inside each generation; readers never rebuild it."""
from __future__ import annotations

from pathlib import Path

from fakes import FakeEmbedder

from pipeline.adapters.chroma_index import ORGS, ChromaIndexReader, ChromaIndexWriter, collection_name, org_folder_name
from pipeline.adapters.chroma_lexical import LEXICAL_DB
from pipeline.index.chunk import embedding_text
from pipeline.index.retrieve import Retriever
from pipeline.ports import Chunk


def _chunk(org: str, doc: str, i: int, text: str) -> Chunk:
    return Chunk(id=f"{doc}:{i}", org_id=org, document_id=doc, page=i, start=0, end=len(text), text=text,
                 section="", metadata={"filename": f"{doc}.pdf"})


def _write(root: Path, chunks, *, delete=()):
    emb = FakeEmbedder()
    with ChromaIndexWriter(root, grace_s=0).batch() as w:
        for org, doc in delete:
            w.delete_document(org, doc)
        if chunks:
            w.upsert(chunks, emb.embed([embedding_text(c) for c in chunks]))


def _no_rebuild(_chunks):
    raise AssertionError("BM25 must come from the generation, not be rebuilt at query time")


def test_lexical_hits_come_from_the_generation_and_stay_in_the_org(tmp_path):
    _write(tmp_path, [_chunk("org-a", "a1", 1, "Holdover rent is 150% of Base Rent."),
                      _chunk("org-a", "a2", 1, "Tenant may not sublet without consent."),
                      _chunk("org-b", "b1", 1, "Holdover rent is 300% of Base Rent, $99,000.")])
    reader = ChromaIndexReader(tmp_path)
    for org in ("org-a", "org-b"):  # each organisation's folder carries its own lexical index
        assert (tmp_path / reader.generation / ORGS / org_folder_name(org) / LEXICAL_DB).exists()
    r = Retriever(reader, FakeEmbedder(), bm25_factory=_no_rebuild)
    hits = r.lexical_search("org-a", "holdover rent 300% $99,000", top_k=10)
    assert [h.chunk.id for h in hits] == ["a1:1"]
    assert hits[0].chunk.text == "Holdover rent is 150% of Base Rent." and hits[0].chunk.metadata["filename"] == "a1.pdf"
    assert r.lexical_search("org-a", "holdover", top_k=10, document_ids=["b1"]) == []
    assert [h.chunk.id for h in r.lexical_search("org-a", "sublet", top_k=10, document_ids=["a2"])] == ["a2:1"]
    assert r.lexical_search("org-c", "holdover", top_k=10) == []
    # each organisation has its own collection: the other one's vectors are never searched
    assert reader.collection("org-a").name == collection_name("org-a") != collection_name("org-b")
    assert reader.collection("org-c") is None


def test_next_generation_carries_lexical_changes(tmp_path):
    _write(tmp_path, [_chunk("org-a", "a1", 1, "Holdover rent is 150%."),
                      _chunk("org-a", "a2", 1, "Holdover is forbidden.")])
    _write(tmp_path, [_chunk("org-a", "a2", 1, "Sublease needs consent.")], delete=[("org-a", "a1")])
    reader = ChromaIndexReader(tmp_path)
    r = Retriever(reader, FakeEmbedder(), bm25_factory=_no_rebuild)
    assert r.lexical_search("org-a", "holdover", top_k=10) == []
    assert [h.chunk.id for h in r.lexical_search("org-a", "sublease consent", top_k=10)] == ["a2:1"]
    assert [h.chunk.id for h in r.retrieve("org-a", "sublease consent", top_k=5)] == ["a2:1"]
