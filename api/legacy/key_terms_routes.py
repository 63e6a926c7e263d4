"""Script extraction routes: /extract-key-terms, /extract-lease-all, and the retired LlamaCloud agent routes."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import failure
from api.legacy.extraction_routes import extraction_of, ingest_upload, receive_upload
from api.legacy.identity import current_caller, json_body, request_user_id
from pipeline.domain.model import Document, DocumentStatus, Extraction
from pipeline.legacy import mapping
from pipeline.legacy.waiting import ExtractionFailed, ExtractionTimedOut

METHOD = "atlas_pipeline"
AGENTS_RETIRED = ("LlamaCloud extraction agents were retired: extraction is configured server-side "
                  "(ATLAS_EXTRACTOR), so this request would change nothing")


def _start(caller_user: str | None) -> tuple[dict[str, Any] | None, Document | None, bool,
                                             tuple[Response, int] | None]:
    """Store the multipart file, ingest it, and say whether an extraction already existed (cached)."""
    stored, data, err = receive_upload(current_caller(caller_user))
    if err:
        return None, None, False, err
    assert stored is not None
    doc, created = ingest_upload(stored["org_id"], stored["filename"], data)
    cached = not created and doc.status == DocumentStatus.READY
    return stored, doc, cached, None


def _source(stored: dict[str, Any], doc: Document, cached: bool) -> dict[str, Any]:
    """The legacy key-terms sourceData: {file_path, method, parser, cached} (+ which document answered)."""
    svc = services()
    with svc.uow_factory() as uow:
        current = uow.documents.get(doc.org_id, doc.id)
    return {"file_path": stored["token"], "method": METHOD, "parser": f"atlas ({current.media_type})",
            "cached": cached, "document_id": doc.id, "page_count": current.page_count}


def _wait(what: str, stored: dict[str, Any], doc: Document,
          cached: bool) -> tuple[Extraction | None, dict[str, Any], tuple[Response, int] | None]:
    """The extraction (or the legacy error response carrying sourceData)."""
    try:
        extraction = extraction_of(doc)
    except ExtractionTimedOut:
        source = _source(stored, doc, cached)
        return None, source, (jsonify({"status": "error", "message": f"{what} timed out", "sourceData": source}), 504)
    except ExtractionFailed as exc:
        source = _source(stored, doc, cached)
        return None, source, (jsonify({"status": "error", "message": f"{what} failed: {exc.message}",
                                       "sourceData": source}), 500)
    return extraction, _source(stored, doc, cached), None


def _uploaded_extraction(what: str) -> tuple[Extraction | None, dict[str, Any], tuple[Response, int] | None]:
    """Store and ingest the uploaded file, then wait for its extraction (or the legacy error reply)."""
    stored, doc, cached, err = _start(request_user_id())
    if err:
        return None, {}, err
    assert stored is not None and doc is not None
    return _wait(what, stored, doc, cached)


@bp.post("/extract-key-terms")
def extract_key_terms() -> Response | tuple[Response, int]:
    """LeaseSummary of the uploaded file with sourceData {file_path, method, parser, cached} and citations."""
    extraction, source, err = _uploaded_extraction("Key terms extraction")
    if err:
        return err
    assert extraction is not None
    return jsonify({"status": "success", "data": mapping.lease_summary(extraction.result),
                    "sourceData": {**mapping.source_data(extraction), **source},
                    "message": "Key terms extracted successfully"})


@bp.post("/extract-lease-all")
def extract_lease_all() -> Response | tuple[Response, int]:
    """Summary and risk flags of the uploaded file from one pipeline extraction."""
    extraction, source, err = _uploaded_extraction("Lease extraction")
    if err:
        return err
    assert extraction is not None
    return jsonify({
        "status": "success",
        "summary": {"data": mapping.lease_summary(extraction.result),
                    "sourceData": {**mapping.source_data(extraction), **source}},
        "flags": {"data": {"risk_flags": [mapping.legacy_flag(f) for f in extraction.result.risk_flags]},
                  "sourceData": {**mapping.risk_flags_source_data(extraction), **source}},
        "message": "Lease summary and risk flags extracted successfully"})


@bp.post("/update-extraction-agent")
def update_extraction_agent() -> tuple[Response, int]:
    """Retired: there are no LlamaCloud agents to update (410 in the legacy failure shape)."""
    current_caller(request_user_id(json_body()))
    return failure(AGENTS_RETIRED, 410)


@bp.post("/test-update-risk-flags-agent")
def test_update_risk_flags_agent() -> tuple[Response, int]:
    """Retired with /update-extraction-agent."""
    current_caller(request_user_id(json_body()))
    return failure(AGENTS_RETIRED, 410)
