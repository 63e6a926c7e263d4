"""The app's PDF viewer: the bytes behind an /upload token, for the caller that owns it."""
from __future__ import annotations

import io
import mimetypes

from flask import Response, send_file

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request
from api.legacy.identity import current_caller, may_read_upload, request_user_id
from pipeline.legacy import records

INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/tiff", "text/plain"})


def content_type(name: str, data: bytes, recorded: str | None) -> str:
    """The media type: what the pipeline detected, else the name's, else sniffed from the first bytes."""
    if recorded and recorded != "application/octet-stream":
        return recorded
    guessed, _ = mimetypes.guess_type(name)
    if guessed:
        return guessed
    return "application/pdf" if data.startswith(b"%PDF-") else "application/octet-stream"


@bp.get("/uploaded_documents/<content_hash>/<name>")
def uploaded_document(content_hash: str, name: str) -> Response | tuple[Response, int]:
    """Stream a stored upload by its token (uploaded_documents/<sha256>/<name>); 404 unless the caller owns it."""
    caller = current_caller(request_user_id())
    svc = services()
    token = records.upload_token(content_hash, name)
    with svc.uow_factory() as uow:
        up = records.find_upload(uow.conn, token, caller.org_id)
        if up is None or not may_read_upload(uow.conn, caller, up):
            return bad_request("File not found", 404)
        doc = uow.documents.find_by_hash(up["org_id"], up["content_hash"])
    data = svc.blobs.get(up["blob_key"])
    mimetype = content_type(name, data, doc.media_type if doc else None)
    inline = mimetype in INLINE_TYPES
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=name,
                     conditional=True, etag=up["content_hash"], max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-cache"
    if not inline:  # never let an uploaded HTML or SVG run on the API's origin
        resp.headers["Content-Security-Policy"] = "sandbox"
    return resp
