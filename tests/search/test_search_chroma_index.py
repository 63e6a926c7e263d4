"""Chroma index: organisation isolation, deletes, generations with one writer and switching readers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fakes import FakeEmbedder
from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter, FileWriterLock, Generations
from pipeline.domain.errors import TransientError
from pipeline.index.chunk import chunk_document, embedding_text
from pipeline.index.retrieve import Retriever, RetrieverConfig
from pipeline.parse.model import Page, ParsedDocument

REPO = Path(__file__).resolve().parents[2]
LEASE = ("ARTICLE 1 - PREMISES\nTenant leases Suite {suite} at {addr}.\n"
         "ARTICLE 2 - RENT\nMonthly Base Rent is {rent}.\n"
         "ARTICLE 3 - HOLDOVER\nIf Tenant holds over, rent shall be {hold} of the Base Rent.\n")


def _lease(org: str, doc: str, **kw) -> list:
    parsed = ParsedDocument(pages=[Page(1, LEASE.format(**kw))], media_type="txt")
    return chunk_document(parsed, org_id=org, document_id=doc, max_chars=80, overlap=10,
                          metadata={"filename": f"{doc}.txt"})


def _write(root: Path, chunks, embedder=None) -> str:
    embedder = embedder or FakeEmbedder()
    batch = ChromaIndexWriter(root, grace_s=0).batch()
    with batch as w:
        w.upsert(chunks, embedder.embed([embedding_text(c) for c in chunks]))
    return batch.generation


@pytest.fixture
def two_orgs(tmp_path):
    a = _lease("org-a", "doc-a", suite="100", addr="1 Elm Street, Dallas", rent="$10,000", hold="150%")
    b = _lease("org-b", "doc-b", suite="100", addr="1 Elm Street, Dallas", rent="$99,000", hold="300%")
    _write(tmp_path, a + b)
    return tmp_path


def test_no_query_filter_or_guessed_id_returns_another_orgs_chunks(two_orgs):
    reader = ChromaIndexReader(two_orgs)
    emb = FakeEmbedder()
    for config in (RetrieverConfig(hybrid=True), RetrieverConfig(hybrid=False, use_llama_index=True),
                   RetrieverConfig(hybrid=False, use_llama_index=False)):
        r = Retriever(reader, emb, config)
        hits = r.retrieve("org-a", "holdover rent 300% $99,000", top_k=50)
        assert hits and {h.chunk.org_id for h in hits} == {"org-a"}
        assert all("99,000" not in h.chunk.text and "300%" not in h.chunk.text for h in hits)
        # guessing the other organisation's document id gives nothing, not its chunks
        assert r.retrieve("org-a", "holdover rent", top_k=50, document_ids=["doc-b"]) == []
        assert r.retrieve("org-a", "holdover rent", top_k=50, document_ids=[]) == []
    assert {c.org_id for c in reader.chunks("org-b")} == {"org-b"}
    assert reader.chunks("org-c") == []
    with pytest.raises(ValueError):
        reader.query("", [0.0] * 384)


def test_deleting_a_document_removes_its_vectors_only(two_orgs):
    with ChromaIndexWriter(two_orgs, grace_s=0).batch() as w:
        w.delete_document("org-a", "doc-b")  # wrong org: must not delete org-b's document
        w.delete_document("org-a", "doc-a")
    reader = ChromaIndexReader(two_orgs)
    assert reader.chunks("org-a") == []
    assert len(reader.chunks("org-b")) > 0


def test_reader_switches_generation_and_old_ones_are_pruned(tmp_path):
    reader = ChromaIndexReader(tmp_path)
    assert reader.query("org-a", [0.1] * 384) == []
    for i in range(4):
        _write(tmp_path, _lease("org-a", f"doc-{i}", suite=i, addr="x", rent="$1", hold="1%"))
        assert {c.document_id for c in reader.chunks("org-a")} == {f"doc-{j}" for j in range(i + 1)}
    gens = Generations(tmp_path)
    assert gens.current() == "gen-000004"
    assert gens.numbers() == [3, 4]  # last two kept


def test_failed_batch_keeps_serving_the_previous_generation(tmp_path):
    _write(tmp_path, _lease("org-a", "doc-1", suite=1, addr="x", rent="$1", hold="1%"))
    with pytest.raises(RuntimeError):
        with ChromaIndexWriter(tmp_path).batch() as w:
            w.delete_document("org-a", "doc-1")
            raise RuntimeError("boom")
    assert Generations(tmp_path).current() == "gen-000001"
    assert Generations(tmp_path).numbers() == [1]
    assert len(ChromaIndexReader(tmp_path).chunks("org-a")) > 0


def test_second_writer_waits_for_the_lock(tmp_path):
    held = FileWriterLock(tmp_path / "writer.lock")
    held.acquire()
    try:
        with pytest.raises(TransientError):
            ChromaIndexWriter(tmp_path, lock_timeout_s=0.2).begin()
    finally:
        held.release()
    ChromaIndexWriter(tmp_path).begin()  # free again


def test_queries_during_writes_never_crash_or_see_partial_batches(tmp_path):
    emb = FakeEmbedder()
    _write(tmp_path, _lease("org-a", "doc-0", suite=0, addr="x", rent="$1", hold="1%"))
    per_doc = len(_lease("org-a", "doc-0", suite=0, addr="x", rent="$1", hold="1%"))
    reader = ChromaIndexReader(tmp_path)
    errors, seen = [], set()
    stop = threading.Event()

    def query_loop():
        while not stop.is_set():
            try:
                chunks = reader.chunks("org-a")
                docs = {c.document_id for c in chunks}
                # every batch adds one whole document: partial batches would break this count
                assert len(chunks) == per_doc * len(docs), (len(chunks), docs)
                hits = reader.query("org-a", emb.embed(["rent"])[0], top_k=3)
                assert all(h.chunk.org_id == "org-a" for h in hits)
                seen.add(reader.generation)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=query_loop) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(1, 6):
        _write(tmp_path, _lease("org-a", f"doc-{i}", suite=i, addr="x", rent="$1", hold="1%"))
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(seen) >= 2


def test_writer_killed_mid_write_leaves_previous_generation_serving(tmp_path):
    _write(tmp_path, _lease("org-a", "doc-1", suite=1, addr="x", rent="$1", hold="1%"))
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from pipeline.adapters.chroma_index import ChromaIndexWriter
        from pipeline.ports import Chunk
        w = ChromaIndexWriter({str(tmp_path)!r})
        w.begin()
        w.delete_document("org-a", "doc-1")
        for i in range(1000000):
            w.upsert([Chunk(id=f"z:{{i}}", org_id="org-a", document_id="doc-z", page=1, start=i, end=i + 1,
                            text="z")], [[1.0] + [0.0] * 383])
            if i == 20:
                print("writing", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    reader = ChromaIndexReader(tmp_path)
    assert reader.generation == "gen-000001"
    assert {c.document_id for c in reader.chunks("org-a")} == {"doc-1"}
    # the next writer clears the half-written directory and publishes cleanly (the flock died with the process)
    gen = _write(tmp_path, _lease("org-a", "doc-2", suite=2, addr="x", rent="$1", hold="1%"))
    assert gen == "gen-000002"
    assert {c.document_id for c in reader.chunks("org-a")} == {"doc-1", "doc-2"}
