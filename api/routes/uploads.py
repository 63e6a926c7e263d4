"""/v1/uploads: signed-URL uploads straight to Cloud Storage for large files (cloud runtime)."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request, url_for

from api.deps import current_org, require_org, services
from pipeline.domain.errors import ValidationFailed
from pipeline.signed_uploads import complete_upload, start_upload

log = logging.getLogger(__name__)

bp = Blueprint("uploads", __name__, url_prefix="/v1")


@bp.post("/uploads")
@require_org
def create_upload() -> tuple[Response, int]:
    """JSON {filename, content_type, size, sha256} → 201 {document_id, upload_url, upload_headers, expires_at}."""
    svc = services()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send JSON: {filename, content_type, size, sha256}")
    size = body.get("size")
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationFailed("size must be an integer number of bytes")
    doc, signed = start_upload(current_org(), body.get("filename"), str(body.get("content_type") or ""), size,
                               str(body.get("sha256") or ""), uow_factory=svc.uow_factory, blobs=svc.blobs,
                               max_bytes=svc.settings.max_upload_bytes)
    complete = url_for("uploads.finish_upload", doc_id=doc.id)
    return jsonify({"document_id": doc.id, "upload_url": signed.url, "upload_method": signed.method,
                    "upload_headers": signed.headers, "expires_at": signed.expires_at.isoformat(),
                    "complete_url": complete,
                    "status_url": url_for("documents.get_document", doc_id=doc.id)}), 201


@bp.post("/uploads/<doc_id>/complete")
@require_org
def finish_upload(doc_id: str) -> tuple[Response, int]:
    """Verify the uploaded object (exists, SHA-256, format) and queue the document: 202, or 200 when already done."""
    svc = services()
    doc, queued = complete_upload(doc_id, org_id=current_org(), uow_factory=svc.uow_factory, blobs=svc.blobs,
                                  check_upload=svc.check_upload, max_bytes=svc.settings.max_upload_bytes)
    if queued:
        relay_after_commit(svc)
    body = doc.to_dict()
    body["status_url"] = url_for("documents.get_document", doc_id=doc.id)
    body["duplicate"] = doc.id != doc_id
    return jsonify(body), 202 if queued else 200


def relay_after_commit(svc) -> None:  # type: ignore[no-untyped-def]
    """Publish what this request committed; on failure the outbox keeps it for the relay job."""
    from pipeline.relay import relay_outbox, relay_queue

    try:
        relay_outbox(relay_queue(svc.engine), svc.bus, max_events=20, publish_attempts=2)
    except Exception:
        log.exception("outbox relay after request failed; events stay pending")


@bp.after_app_request
def _relay_documents_upload(resp: Response) -> Response:
    """POST /v1/documents and DELETE write outbox rows too: relay them while the request's CPU is allocated."""
    if request.method in ("POST", "DELETE") and resp.status_code in (200, 202, 204) \
            and request.blueprint == "documents":
        relay_after_commit(services())
    return resp
