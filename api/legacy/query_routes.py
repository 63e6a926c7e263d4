"""Script routes over the search side: /index, /query, /rag-query, /lease-flag-query, /list-indexed-documents.

They answer through the same use cases as /v1 (ingest, ask, the stored extraction); the retriever is the one
/v1/query builds, shared through the same lazy service slot.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, request

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request
from api.legacy.extraction_routes import extraction_of, ingest_upload, upload_for
from api.legacy.identity import Caller, check_document, current_caller, json_body, reading_org, request_user_id
from pipeline.domain.errors import AtlasError, NotFound
from pipeline.domain.model import Document, DocumentStatus
from pipeline.index.answer import Answer
from pipeline.legacy import mapping
from pipeline.legacy.waiting import ExtractionFailed, ExtractionTimedOut
from pipeline.usecases.ask import ask

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
NO_DOCUMENTS = "No passage in your documents matches this question."


class IndexUnavailable(Exception):
    """The search side (retriever, embedder) cannot be built in this process."""


def _search_parts() -> tuple[Any, Any, Any]:
    """(retriever, extractions lookup, answer LLM or None), built exactly as /v1/query builds them."""
    svc = services()
    try:
        from pipeline.adapters.chroma_search import build_llm, build_retriever, extractions_lookup

        retriever = svc.lazy("retriever", lambda: build_retriever(svc.settings))
        llm = svc.lazy("answer_llm", lambda: build_llm(svc.settings))
    except (ImportError, OSError) as exc:  # search helper's code or the local model is not there
        raise IndexUnavailable(str(exc)) from exc
    return retriever, extractions_lookup(svc.uow_factory), llm


def _index_unavailable(exc: IndexUnavailable) -> tuple[Response, int]:
    log.warning("legacy query without a search index", extra={"reason": str(exc)[:200]})
    return jsonify({"error": "Index server unavailable", "details": str(exc)[:300]}), 503


def _answer(caller: Caller, question: str) -> Answer:
    """The ask use case over the caller's organisation."""
    retriever, lookup, llm = _search_parts()
    with services().uow_factory() as uow:
        org_id = reading_org(uow.conn, caller)
    if org_id is None:
        return Answer(answer=NO_DOCUMENTS, sources=[])
    return ask(org_id, question, retriever=retriever, extractions_lookup=lookup, llm=llm)


def _answer_or_error(caller: Caller, question: str, route: str) -> Answer | tuple[Response, int]:
    """The answer, or the legacy error reply: 503 without a search index, 500 {"error": "Query failed"} otherwise."""
    try:
        return _answer(caller, question)
    except IndexUnavailable as exc:
        return _index_unavailable(exc)
    except AtlasError:
        raise
    except Exception:  # the legacy contract answers retrieval failures with {"error": "Query failed"}
        log.exception("legacy %s failed", route)
        return jsonify({"error": "Query failed"}), 500


def _question(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_QUESTION_CHARS:
        return None
    return value.strip()


@bp.post("/index")
def index_file() -> Response | tuple[Response, int]:
    """Make sure an uploaded file is in the pipeline (ingested, then extracted and indexed by the worker)."""
    body = json_body() or {}
    caller = current_caller(request_user_id(body))
    token = body.get("file_path")
    if not token:
        return bad_request("No file path provided")
    up = upload_for(caller, str(token))
    if up is None:
        return bad_request("File not found", 404)
    doc, created = ingest_upload(up["org_id"], up["filename"], services().blobs.get(up["blob_key"]))
    return jsonify({"status": "success", "filepath": up["token"], "document_id": doc.id,
                    "document_status": doc.status.value, "created": created})


@bp.get("/query")
def query_text() -> Response | tuple[Response, int]:
    """?text= → {response, retrieved_nodes} answered from the caller's documents."""
    caller = current_caller(request_user_id())
    question = _question(request.args.get("text"))
    if question is None:
        return bad_request("No query text provided")
    answer = _answer_or_error(caller, question, "query")
    if not isinstance(answer, Answer):
        return answer
    return jsonify({"response": answer.answer, "retrieved_nodes": [s.quote for s in answer.sources],
                    "sources": [s.to_dict() for s in answer.sources], "mode": answer.mode})


@bp.post("/rag-query")
def rag_query() -> Response | tuple[Response, int]:
    """{query} → {answer} answered from the caller's documents."""
    body = json_body() or {}
    caller = current_caller(request_user_id(body))
    question = _question(body.get("query"))
    if question is None:
        return bad_request("No query provided")
    answer = _answer_or_error(caller, question, "rag query")
    if not isinstance(answer, Answer):
        return answer
    return jsonify({"answer": answer.answer, "sources": [s.to_dict() for s in answer.sources], "mode": answer.mode})


def _pipeline_document(caller: Caller, ref: str) -> Document:
    """A pipeline document id of the caller's organisation, or a registered document id the caller may see."""
    svc = services()
    with svc.uow_factory() as uow:
        org_id = reading_org(uow.conn, caller)
        if org_id is not None:
            try:
                return uow.documents.get(org_id, ref)
            except NotFound:
                pass
        elif caller.org_id is None and caller.user_id is None:
            try:  # development without any identity: the legacy backend's global view
                return uow.documents.get_any_org(ref)
            except NotFound:
                pass
        try:
            reg = check_document(uow.conn, caller, ref)
        except NotFound:
            reg = None
        if reg is not None and reg.get("source_document_id"):
            return uow.documents.get_any_org(reg["source_document_id"])
    raise NotFound("Document not found")


@bp.post("/lease-flag-query")
def lease_flag_query() -> Response | tuple[Response, int]:
    """{query, document_id} → {"risk_flags": [...]}: the document's flags from its extraction."""
    body = json_body() or {}
    caller = current_caller(request_user_id(body))
    question, ref = _question(body.get("query")), body.get("document_id")
    if question is None or not isinstance(ref, str) or not ref:
        return bad_request("Missing required fields: query, document_id")
    try:
        doc = _pipeline_document(caller, ref)
    except NotFound:
        return bad_request("Document not found", 404)
    try:
        extraction = extraction_of(doc)
    except ExtractionTimedOut:
        return jsonify({"status": "error", "message": "Risk flags extraction timed out"}), 504
    except ExtractionFailed as exc:
        return jsonify({"status": "error", "message": f"Risk flags extraction failed: {exc.message}"}), 500
    return jsonify({"risk_flags": [mapping.legacy_flag(f) for f in extraction.result.risk_flags],
                    "document_id": doc.id, "query": question})


@bp.get("/list-indexed-documents")
def list_indexed_documents() -> Response:
    """The caller's documents that finished the pipeline."""
    caller = current_caller(request_user_id())
    ids: list[str] = []
    svc = services()
    with svc.uow_factory() as uow:
        org_id = reading_org(uow.conn, caller)
        offset, page = 0, 200
        while org_id is not None:
            batch = uow.documents.list(org_id, limit=page, offset=offset)
            ids += [d.id for d in batch if d.status == DocumentStatus.READY]
            if len(batch) < page:
                break
            offset += page
    return jsonify({"document_ids": ids, "count": len(ids)})
