"""/v1/documents: upload, list, status, extraction, delete."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from api.deps import current_org, require_org, services
from pipeline.domain.errors import InvalidDocument, NotFound, ValidationFailed
from pipeline.blob_refs import blob_releaser
from pipeline.usecases.delete import delete_document
from pipeline.usecases.ingest import check_upload_name, ingest

bp = Blueprint("documents", __name__, url_prefix="/v1")
MAX_OFFSET = 10**9  # beyond any real listing, and inside every database's integer range


def _document_json(doc) -> dict:  # type: ignore[no-untyped-def]
    body = doc.to_dict()
    body["status_url"] = url_for("documents.get_document", doc_id=doc.id, _external=False)
    body["extraction_url"] = url_for("documents.get_extraction", doc_id=doc.id, _external=False)
    return body


@bp.post("/documents")
@require_org
def create_document() -> tuple[Response, int]:
    """Accept a multipart upload (field 'file'); 202 with the id and status URL, 200 for a known duplicate."""
    svc = services()
    if request.content_length and request.content_length > svc.settings.max_upload_bytes + 1024 * 1024:
        raise InvalidDocument(f"upload exceeds {svc.settings.max_upload_bytes} bytes", code="too_large")
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ValidationFailed("send the lease as multipart/form-data with a 'file' field")
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("multipart field 'file' is missing")
    check_upload_name(upload.filename)
    data = upload.stream.read(svc.settings.max_upload_bytes + 1)
    doc, created = ingest(current_org(), upload.filename, data, uow_factory=svc.uow_factory, blobs=svc.blobs,
                          check_upload=svc.check_upload)
    body = _document_json(doc)
    body["duplicate"] = not created
    resp = jsonify(body)
    resp.headers["Location"] = body["status_url"]
    return resp, 202 if created else 200


@bp.get("/documents")
@require_org
def list_documents() -> Response:
    """The caller's documents, newest first (limit/offset/status)."""
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError as exc:
        raise ValidationFailed("limit and offset must be integers") from exc
    if not 1 <= limit <= 500 or not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(f"limit must be between 1 and 500 and offset between 0 and {MAX_OFFSET}")
    status = request.args.get("status")
    if status and status not in ("queued", "processing", "ready", "failed"):
        raise ValidationFailed("status must be one of queued, processing, ready, failed")
    with services().uow_factory() as uow:
        docs = uow.documents.list(current_org(), limit=limit, offset=offset, status=status)
    return jsonify({"documents": [_document_json(d) for d in docs], "limit": limit, "offset": offset})


@bp.get("/documents/<doc_id>")
@require_org
def get_document(doc_id: str) -> Response:
    """One document's status (queued, processing, ready, failed + reason) and progress."""
    with services().uow_factory() as uow:
        doc = uow.documents.get(current_org(), doc_id)
    return jsonify(_document_json(doc))


@bp.get("/documents/<doc_id>/extraction")
@require_org
def get_extraction(doc_id: str) -> Response:
    """The latest extraction version (or ?version=N)."""
    version = request.args.get("version")
    with services().uow_factory() as uow:
        doc = uow.documents.get(current_org(), doc_id)
        if version is not None:
            if not version.isdigit():
                raise ValidationFailed("version must be a positive integer")
            ext = uow.extractions.get_version(current_org(), doc_id, int(version))
        else:
            ext = uow.extractions.latest(current_org(), doc_id)
        versions = uow.extractions.versions(current_org(), doc_id)
    if ext is None:
        raise NotFound(f"document {doc_id} has no extraction yet (status: {doc.status.value})",
                       code="extraction_not_ready" if version is None else "not_found")
    body = ext.to_dict()
    body["versions"] = versions
    return jsonify(body)


@bp.delete("/documents/<doc_id>")
@require_org
def remove_document(doc_id: str) -> tuple[str, int]:
    """Delete the document's bytes, rows and vectors."""
    svc = services()
    delete_document(current_org(), doc_id, uow_factory=svc.uow_factory,
                    release_blob=blob_releaser(svc.uow_factory, svc.blobs))
    return "", 204
