"""Index job bursts: one writer drains all pending work; executions with nothing left, or a busy lease, exit 0."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import delete

from fakes import FakeEmbedder
from jobs.index_job import run_index
from pipeline.adapters import sql_tables as t
from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter, FileWriterLock, Generations
from pipeline.adapters.sql_engine import make_engine
from pipeline.adapters.sql_index_state import document_state
from pipeline.adapters.sql_uow import SqlUnitOfWorkFactory
from pipeline.domain.errors import WriterBusy
from pipeline.domain.model import Document, DocumentStatus, Extraction, ExtractionResult
from pipeline.parse.model import Page, ParsedDocument
from pipeline.usecases.index import ADOPTED, DocumentState, IndexTarget, drain_index, is_done, pending_targets

TEXT = "ARTICLE 1 - RENT\nMonthly Base Rent for {doc} is {n} dollars.\nARTICLE 2 - HOLDOVER\n150% of rent.\n"


def _parsed(doc: Document) -> ParsedDocument:
    return ParsedDocument(pages=[Page(1, TEXT.format(doc=doc.id, n=len(doc.id)))], media_type="txt")


@pytest.fixture
def svc(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    t.metadata.create_all(engine)
    uow = SqlUnitOfWorkFactory(engine)
    with uow() as u:
        org = u.keys.create_org("org one")
        u.commit()
    monkeypatch.setattr("pipeline.usecases.extract.load_parsed", lambda doc, **_: _parsed(doc))
    return SimpleNamespace(engine=engine, uow_factory=uow, blobs=None, parse=None, org=org.id,
                           settings=SimpleNamespace(chroma_path=tmp_path / "index"),
                           lazy=lambda name, factory: factory())


def _add(svc, doc_id: str, version: int = 1) -> str:
    """A ready document with its extraction version; returns the extraction id."""
    with svc.uow_factory() as u:
        try:
            u.documents.get(svc.org, doc_id)
        except Exception:
            u.documents.add(Document(id=doc_id, org_id=svc.org, filename=f"{doc_id}.pdf", content_hash=doc_id,
                                     size_bytes=1, media_type="application/pdf", blob_key=doc_id,
                                     status=DocumentStatus.READY))
        ext_id = f"{doc_id}-e{version}"
        u.extractions.add(Extraction(id=ext_id, document_id=doc_id, org_id=svc.org, version=version,
                                     result=ExtractionResult(), extractor_version="1", content_hash=doc_id))
        u.commit()
    return ext_id


def _writer(svc) -> ChromaIndexWriter:
    return ChromaIndexWriter(svc.settings.chroma_path, grace_s=0, lock_timeout_s=0)


def test_one_execution_drains_every_pending_change_and_later_ones_find_it_done(svc):
    e1, e2, e3 = (_add(svc, d) for d in ("d1", "d2", "d3"))
    gens = run_index([f"index:{svc.org}:d1"], svc=svc, writer=_writer(svc), embedder=FakeEmbedder())
    assert len(gens) == 1
    assert _writer(svc).indexed() == {(svc.org, "d1"): e1, (svc.org, "d2"): e2, (svc.org, "d3"): e3}
    reader = ChromaIndexReader(svc.settings.chroma_path)
    assert {c.document_id for c in reader.chunks(svc.org)} == {"d1", "d2", "d3"}
    # d2's and d3's own executions arrive later: nothing left to do, no generation
    started = time.monotonic()
    assert run_index([f"index:{svc.org}:d2"], svc=svc, writer=_writer(svc), embedder=FakeEmbedder()) == []
    assert run_index([f"index:{svc.org}:d3"], svc=svc, writer=_writer(svc), embedder=FakeEmbedder()) == []
    assert time.monotonic() - started < 5 and Generations(svc.settings.chroma_path).current() == gens[0]
    # a correction (new extraction version) and a deletion are pending work again
    e1b = _add(svc, "d1", version=2)
    with svc.engine.begin() as conn:
        conn.execute(delete(t.extractions).where(t.extractions.c.document_id == "d2"))
        conn.execute(delete(t.documents).where(t.documents.c.id == "d2"))
    gens = run_index([f"index:{svc.org}:d1"], svc=svc, writer=_writer(svc), embedder=FakeEmbedder())
    assert len(gens) == 1
    assert _writer(svc).indexed() == {(svc.org, "d1"): e1b, (svc.org, "d3"): e3}
    assert {c.document_id for c in reader.chunks(svc.org)} == {"d1", "d3"}


def test_an_execution_exits_at_once_when_another_writer_holds_the_lease(svc):
    _add(svc, "d1")
    held = FileWriterLock(svc.settings.chroma_path / "writer.lock")
    held.acquire()
    try:
        started = time.monotonic()
        assert run_index([f"index:{svc.org}:d1"], svc=svc, writer=_writer(svc), embedder=FakeEmbedder()) == []
        assert time.monotonic() - started < 5
        assert Generations(svc.settings.chroma_path).current() is None
    finally:
        held.release()


def test_the_writer_rereads_pending_work_after_each_publish(svc):
    """Work committed while a writer held the lease is done by that writer's next round."""
    _add(svc, "d1")
    calls = []

    def state():
        calls.append(1)
        if len(calls) == 2:  # committed while the first generation was being written
            _add(svc, "late")
        return document_state(svc.engine)

    gens = drain_index([IndexTarget(svc.org, "d1")], document_state=state, uow_factory=svc.uow_factory,
                       load_parsed=_parsed, embedder=FakeEmbedder, index_writer=_writer(svc))
    assert len(gens) == 2 and len(calls) == 3
    assert set(_writer(svc).indexed()) == {(svc.org, "d1"), (svc.org, "late")}


def test_drain_raises_writer_busy_for_the_caller_to_stop(svc):
    _add(svc, "d1")
    held = FileWriterLock(svc.settings.chroma_path / "writer.lock")
    held.acquire()
    try:
        with pytest.raises(WriterBusy):
            drain_index([], document_state=lambda: document_state(svc.engine), uow_factory=svc.uow_factory,
                        load_parsed=_parsed, embedder=FakeEmbedder, index_writer=_writer(svc))
    finally:
        held.release()


def test_pending_work_and_done_checks():
    ready = DocumentState(DocumentStatus.READY.value, "e2")
    state = {("o", "new"): ready, ("o", "stale"): ready, ("o", "same"): ready, ("o", "legacy"): ready,
             ("o", "busy"): DocumentState(DocumentStatus.PROCESSING.value, "e1")}
    indexed = {("o", "stale"): "e1", ("o", "same"): "e2", ("o", "legacy"): ADOPTED, ("o", "gone"): "e1"}
    assert pending_targets(state, indexed) == [IndexTarget("o", "new"), IndexTarget("o", "stale"),
                                               IndexTarget("o", "gone", delete=True)]
    assert is_done(IndexTarget("o", "same"), state, indexed)
    assert not is_done(IndexTarget("o", "legacy"), state, indexed)  # asked for explicitly: re-indexed
    assert not is_done(IndexTarget("o", "gone", delete=True), state, indexed)
    assert is_done(IndexTarget("o", "never", delete=True), state, indexed)
