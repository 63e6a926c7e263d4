"""Ask: extractive answers cite real page text, field questions use extractions, LLM answers cite sources."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter
from pipeline.adapters.openai_chat import OpenAIChat
from pipeline.domain.events import document_deleted, extraction_completed
from pipeline.domain.model import (Citation, Document, Extraction, ExtractionResult, FieldStatus, FieldValue,
                                   RiskFlag)
from pipeline.index.portfolio import filter_leases
from pipeline.index.retrieve import Retriever
from pipeline.index.sentences import clean
from pipeline.parse.model import Page, ParsedDocument
from pipeline.usecases.ask import ask
from pipeline.usecases.index import delete_from_index, index_documents

PAGES = {
    "doc-1": ["BASIC LEASE INFORMATION\nTenant: Quarry Outdoor Supply Co.\nPremises: 4570 Lakeshore Boulevard, Dallas.\n",
              "ARTICLE 14 - HOLDOVER\nIf Tenant remains in possession after expiration, Tenant shall pay "
              "holdover rent equal to two hundred percent (200%) of the Base Rent. Landlord may recover damages.\n"],
    "doc-2": ["LEASE\nTenant: Orchid Dental Group.\nPremises: 4950 Elm Street, Columbus.\n",
              "ARTICLE 9 - SUBLETTING\nTenant shall not sublet the Premises without Landlord's consent, which "
              "consent may be withheld in Landlord's sole discretion.\n"],
}


def _doc(doc_id: str, org: str = "org-a") -> Document:
    return Document(id=doc_id, org_id=org, filename=f"{doc_id}.pdf", content_hash="h", size_bytes=1,
                    media_type="application/pdf", blob_key="k")


def _result(exp: str, rent: float, flags=()) -> ExtractionResult:
    cite = Citation(page=1, start=0, end=10, quote=f"expires {exp}")
    return ExtractionResult(fields={
        "expiration_date": FieldValue(exp, exp, 0.9, FieldStatus.FOUND, [cite]),
        "base_rent_monthly": FieldValue(rent, str(rent), 0.9, FieldStatus.FOUND, []),
        "tenant": FieldValue("Quarry Outdoor Supply Co.", None, 0.9, FieldStatus.FOUND, []),
    }, risk_flags=[RiskFlag(type=f) for f in flags])


class FakeUow:
    """Just enough unit of work for the index use case."""

    def __init__(self, docs, extractions):
        self.documents = SimpleNamespace(get=self._get)
        self.extractions = SimpleNamespace(latest=lambda org, d: extractions.get(d))
        self._docs = docs

    def _get(self, org, doc_id):
        from pipeline.domain.errors import NotFound
        doc = self._docs.get(doc_id)
        if doc is None or doc.org_id != org:
            raise NotFound(doc_id)
        return doc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.fixture
def indexed(tmp_path, minilm):
    """The two leases indexed with the real embedder: answers depend on what questions mean."""
    docs = {d: _doc(d) for d in PAGES}
    extractions = {"doc-1": Extraction(id="e1", document_id="doc-1", org_id="org-a", version=1,
                                       result=_result("2029-09-30", 60642.0), extractor_version="1",
                                       content_hash="h")}
    writer = ChromaIndexWriter(tmp_path)
    emb = minilm
    gen = index_documents([extraction_completed("org-a", d, 1) for d in PAGES],
                          uow_factory=lambda: FakeUow(docs, extractions),
                          load_parsed=lambda doc: ParsedDocument(
                              pages=[Page(i + 1, t) for i, t in enumerate(PAGES[doc.id])], media_type="pdf"),
                          embedder=emb, index_writer=writer)
    assert gen == "gen-000001"
    reader = ChromaIndexReader(tmp_path)
    return SimpleNamespace(root=tmp_path, writer=writer, reader=reader, retriever=Retriever(reader, emb))


def test_extractive_answer_cites_a_quote_that_is_on_that_page(indexed):
    ans = ask("org-a", "What is the holdover rent?", retriever=indexed.retriever)
    assert ans.mode == "extractive"
    top = ans.sources[0]
    assert (top.document_id, top.page) == ("doc-1", 2)
    page_text = PAGES[top.document_id][top.page - 1]
    assert page_text[top.start:top.end] == top.quote
    assert "200%" in ans.answer and ans.answer == clean(top.quote)
    assert not ans.answer.startswith("ARTICLE")  # the heading is not part of the answer sentence
    assert top.filename == "doc-1.pdf"


def test_context_from_the_extraction_reaches_later_pages(indexed):
    hits = indexed.retriever.retrieve("org-a", "Quarry Outdoor holdover", top_k=2)
    assert {(h.chunk.document_id, h.chunk.page) for h in hits} == {("doc-1", 1), ("doc-1", 2)}
    page2 = [h.chunk for h in hits if h.chunk.page == 2][0]
    assert "Quarry Outdoor Supply Co." in page2.metadata["context"] and "Quarry" not in page2.text


def test_field_question_is_answered_from_the_extraction(indexed):
    lookup = lambda org, ids: [("doc-1", "doc-1.pdf", _result("2029-09-30", 60642.0))] if org == "org-a" else []
    ans = ask("org-a", "When does the Quarry Outdoor lease expire?", retriever=indexed.retriever,
              extractions_lookup=lookup)
    assert "2029-09-30" in ans.answer
    assert ans.sources[0].quote == "expires 2029-09-30" and ans.sources[0].page == 1


def test_other_org_gets_nothing(indexed):
    ans = ask("org-b", "What is the holdover rent?", retriever=indexed.retriever)
    assert ans.sources == [] and "200%" not in ans.answer


def test_deleted_document_stops_answering(indexed):
    delete_from_index("org-a", "doc-1", index_writer=indexed.writer)
    ans = ask("org-a", "holdover rent", retriever=indexed.retriever)
    assert all(s.document_id != "doc-1" for s in ans.sources)
    index_documents([document_deleted("org-a", "doc-2")], uow_factory=None, load_parsed=None,
                    embedder=None, index_writer=indexed.writer)
    assert indexed.reader.chunks("org-a") == []


def test_question_the_documents_do_not_answer_is_declined_with_related_passages(indexed):
    lookup = lambda org, ids: [("doc-1", "doc-1.pdf", _result("2029-09-30", 60642.0))] if org == "org-a" else []
    ans = ask("org-a", "How many parking spaces does Quarry Outdoor Supply get?", retriever=indexed.retriever,
              extractions_lookup=lookup)
    assert ans.refused and ans.answer == "The documents don't state this."
    assert ans.sources and all(s.document_id == "doc-1" for s in ans.sources)  # the lease it names


def test_a_question_about_a_landlord_right_is_not_answered_with_the_landlord_field(indexed):
    result = _result("2029-09-30", 60642.0)
    result.fields["landlord"] = FieldValue("Lakeshore Holdings LLC", "Lakeshore Holdings LLC", 0.9,
                                           FieldStatus.FOUND, [Citation(1, 0, 22, "Lakeshore Holdings LLC")])
    lookup = lambda org, ids: [("doc-1", "doc-1.pdf", result)] if org == "org-a" else []
    ans = ask("org-a", "What can the landlord recover if Quarry Outdoor holds over?", retriever=indexed.retriever,
              extractions_lookup=lookup)
    assert "Lakeshore" not in ans.answer and ans.question_kind == "clause"
    assert "damages" in ans.answer


def test_a_special_rent_is_not_answered_with_the_base_rent(indexed):
    lookup = lambda org, ids: [("doc-1", "doc-1.pdf", _result("2029-09-30", 60642.0))] if org == "org-a" else []
    ans = ask("org-a", "What rent does Quarry Outdoor pay if it stays after the lease ends?",
              retriever=indexed.retriever, extractions_lookup=lookup)
    assert "200%" in ans.answer and "60,642" not in ans.answer


class _FakeOpenAI(BaseHTTPRequestHandler):
    reply = ""
    calls = 0

    def do_POST(self):  # noqa: N802 (http.server API)
        _FakeOpenAI.calls += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert body["messages"][0]["role"] == "system"
        out = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": self.reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        return None


@pytest.fixture
def fake_openai():
    server = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_llm_answer_keeps_only_cited_sentences(indexed, fake_openai):
    _FakeOpenAI.reply = "Holdover rent is 200% of Base Rent [1]. This sentence cites nothing. Bad cite [9]."
    llm = OpenAIChat(api_key="test", model="m", base_url=f"http://127.0.0.1:{fake_openai.server_port}/v1")
    ans = ask("org-a", "What is the holdover rent?", retriever=indexed.retriever, llm=llm)
    assert ans.mode == "llm"
    assert ans.answer == "Holdover rent is 200% of Base Rent [1]."
    assert ans.sources[0].document_id == "doc-1"


def test_llm_answer_without_citations_falls_back_to_extractive(indexed, fake_openai):
    _FakeOpenAI.reply = "I think it is probably fine."
    llm = OpenAIChat(api_key="test", model="m", base_url=f"http://127.0.0.1:{fake_openai.server_port}/v1")
    ans = ask("org-a", "What is the holdover rent?", retriever=indexed.retriever, llm=llm)
    assert ans.mode == "extractive" and "200%" in ans.answer


def test_portfolio_filter_by_expiry_rent_and_flag():
    rows = [("a", _result("2026-05-31", 5000.0, ["holdover_penalty"])),
            ("b", _result("2029-09-30", 60642.0)),
            ("c", _result("2025-01-31", 90000.0, ["holdover_penalty", "non_compete"])),
            ("d", ExtractionResult(kind="not_a_lease"))]
    assert [d for d, _ in filter_leases(rows, expires_before="2027-01-01")] == ["c", "a"]
    assert [d for d, _ in filter_leases(rows, min_rent=10000)] == ["c", "b"]
    assert [d for d, _ in filter_leases(rows, flag="holdover_penalty", sort="-expiration_date")] == ["a", "c"]
    assert [d for d, _ in filter_leases(rows, expires_after="2025-06-01", max_rent=10000)] == ["a"]
    with pytest.raises(ValueError):
        filter_leases(rows, expires_before="soon")


def test_llm_is_not_asked_when_the_documents_do_not_answer(indexed, fake_openai):
    _FakeOpenAI.reply = "Quarry Outdoor gets 40 parking spaces [1]."
    _FakeOpenAI.calls = 0
    llm = OpenAIChat(api_key="test", model="m", base_url=f"http://127.0.0.1:{fake_openai.server_port}/v1")
    ans = ask("org-a", "How many parking spaces does Quarry Outdoor Supply get?", retriever=indexed.retriever, llm=llm)
    assert ans.refused and _FakeOpenAI.calls == 0 and "40" not in ans.answer


def test_llm_sentence_with_a_number_not_on_the_cited_page_is_dropped(indexed, fake_openai):
    _FakeOpenAI.reply = "Holdover rent is 300% of Base Rent [1]."
    llm = OpenAIChat(api_key="test", model="m", base_url=f"http://127.0.0.1:{fake_openai.server_port}/v1")
    ans = ask("org-a", "What is the holdover rent?", retriever=indexed.retriever, llm=llm)
    assert ans.mode == "extractive" and "200%" in ans.answer and "300%" not in ans.answer


def test_llm_refusal_is_reported_as_a_refusal(indexed, fake_openai):
    _FakeOpenAI.reply = "The documents don't state this."
    llm = OpenAIChat(api_key="test", model="m", base_url=f"http://127.0.0.1:{fake_openai.server_port}/v1")
    ans = ask("org-a", "What is the holdover rent?", retriever=indexed.retriever, llm=llm)
    assert ans.refused and ans.sources
