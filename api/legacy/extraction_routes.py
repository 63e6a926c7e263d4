"""Try-it-now routes: upload, summary, risk flags, asset type, and the SSE progress stream."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Iterator

from flask import Response, jsonify, request, stream_with_context
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request, failure
from api.legacy.identity import (Caller, current_caller, json_body, may_read_upload, reading_org, request_user_id,
                                 working_org)
from api.legacy.waits import wait_slots
from pipeline.blob_refs import ensure_blob
from pipeline.domain.errors import AtlasError, InvalidDocument
from pipeline.domain.model import Document, DocumentStatus, Extraction
from pipeline.legacy import mapping, records
from pipeline.legacy.waiting import ExtractionFailed, ExtractionTimedOut, wait_for_extraction, watch
from pipeline.usecases.extract import save_correction
from pipeline.usecases.ingest import ingest, safe_display_name

log = logging.getLogger(__name__)


@bp.get("/")
def welcome() -> Response:
    """The legacy health probe."""
    return Response("Welcome to Atlas Data's API!", mimetype="text/plain")


def file_from_request() -> tuple[FileStorage | None, tuple[Response, int] | None]:
    if "file" not in request.files:
        return None, bad_request("No file part in request")
    upload = request.files["file"]
    if not upload.filename:
        return None, bad_request("No selected file")
    return upload, None


def read_upload(upload: FileStorage) -> bytes:
    limit = services().settings.max_upload_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise InvalidDocument(f"upload exceeds {limit} bytes", code="too_large")
    return data


def token_name(filename: str | None) -> str:
    """The file name inside an upload token: secure_filename, cut to 255 characters keeping the extension."""
    name = secure_filename(filename or "") or "upload"
    if len(name) <= records.MAX_TOKEN_NAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        return name[:records.MAX_TOKEN_NAME]
    return stem[:records.MAX_TOKEN_NAME - len(ext) - 1] + "." + ext


def store_upload(caller: Caller, upload: FileStorage, data: bytes) -> dict[str, Any]:
    """Keep the bytes in the blob store and remember the token that names them."""
    svc = services()
    display = token_name(upload.filename)
    digest = hashlib.sha256(data).hexdigest()
    content_type = upload.mimetype or "application/octet-stream"
    key = svc.blobs.put(data, content_type=content_type)
    token = records.upload_token(digest, display)
    with svc.uow_factory() as uow:
        ensure_blob(uow, svc.blobs, key, data, content_type)  # the token must not point at deleted bytes
        org_id = working_org(uow.conn, caller)
        records.add_upload(uow.conn, token=token, org_id=org_id, blob_key=key, content_hash=digest,
                           filename=display, size_bytes=len(data))
        uow.commit()
    return {"token": token, "org_id": org_id, "filename": display, "blob_key": key}


def receive_upload(caller: Caller) -> tuple[dict[str, Any] | None, bytes, tuple[Response, int] | None]:
    """The request's multipart file, stored under a token: (stored, bytes, None), or (None, b"", the 400 reply)."""
    upload, err = file_from_request()
    if err:
        return None, b"", err
    assert upload is not None
    data = read_upload(upload)
    # bytes the pipeline refuses are not kept: there would be no way to use or delete them (InvalidDocument -> 4xx)
    services().check_upload(data, safe_display_name(token_name(upload.filename)))
    return store_upload(caller, upload, data), data, None


def ingest_upload(org_id: str, filename: str, data: bytes) -> tuple[Document, bool]:
    """The pipeline document for these bytes (deduplicated by content hash) and whether it is new."""
    svc = services()
    return ingest(org_id, filename, data, uow_factory=svc.uow_factory, blobs=svc.blobs,
                  check_upload=svc.check_upload)


def _ingest(org_id: str, filename: str, data: bytes) -> Document:
    return ingest_upload(org_id, filename, data)[0]


def extraction_of(doc: Document) -> Extraction:
    """The document's extraction, waiting for the worker up to the legacy wait budget (in one of the wait slots)."""
    svc = services()
    slots = wait_slots()
    with svc.uow_factory() as uow:
        current = uow.documents.get(doc.org_id, doc.id)
        ready = current.status == DocumentStatus.READY and uow.extractions.latest(doc.org_id, doc.id)
    if ready:  # no wait, no slot
        return ready
    release = slots.acquire()
    try:
        return wait_for_extraction(doc.org_id, doc.id, uow_factory=svc.uow_factory,
                                   timeout_s=svc.settings.legacy_wait_s, stop=slots.closing)
    finally:
        release()


def _extraction_for(org_id: str, filename: str, data: bytes) -> Extraction:
    return extraction_of(_ingest(org_id, filename, data))


@bp.post("/upload")
def upload_file() -> Response | tuple[Response, int]:
    """Store the file and hand back an opaque filepath token; the pipeline starts on it at once."""
    stored, data, err = receive_upload(current_caller(request_user_id()))
    if err:
        return err
    assert stored is not None
    _ingest(stored["org_id"], stored["filename"], data)
    return jsonify({"status": "success", "filename": stored["filename"], "filepath": stored["token"]})


def _extract_route(what: str, build: Any) -> Response | tuple[Response, int]:
    stored, data, err = receive_upload(current_caller(request_user_id()))
    if err:
        return err
    assert stored is not None
    try:
        extraction = _extraction_for(stored["org_id"], stored["filename"], data)
    except ExtractionTimedOut:
        return failure(f"{what} extraction timed out", 504)
    except ExtractionFailed as exc:
        return failure(f"{what} extraction failed: {exc.message}", 500)
    return jsonify({"status": "success", **build(extraction), "message": f"{what} extracted successfully"})


@bp.post("/extract-summary")
def extract_summary() -> Response | tuple[Response, int]:
    """LeaseSummary + citations of the (re-)uploaded file, from the pipeline's extraction."""
    return _extract_route("Lease summary", lambda ext: {"data": mapping.lease_summary(ext.result),
                                                        "sourceData": mapping.source_data(ext)})


@bp.post("/extract-risk-flags")
def extract_risk_flags() -> Response | tuple[Response, int]:
    """Risk flags of the (re-)uploaded file, from the pipeline's extraction."""
    return _extract_route("Risk flags", lambda ext: {
        "data": {"risk_flags": [mapping.legacy_flag(f) for f in ext.result.risk_flags]},
        "sourceData": mapping.risk_flags_source_data(ext)})


def upload_for(caller: Caller, token: str | None) -> dict[str, Any] | None:
    """The upload a token names when the caller owns it, else None."""
    with services().uow_factory() as uow:
        up = records.find_upload(uow.conn, token, caller.org_id)
        return up if up is not None and may_read_upload(uow.conn, caller, up) else None


@bp.post("/classify-asset-type")
def classify_asset_type() -> Response | tuple[Response, int]:
    """The asset type the pipeline read from the uploaded file, with its confidence."""
    body = json_body() or {}
    caller = current_caller(request_user_id(body))
    token = body.get("file_path")
    if not token:
        return bad_request("No file path provided")
    up = upload_for(caller, token)
    if up is None:
        return bad_request("File not found", 404)
    svc = services()
    try:
        extraction = _extraction_for(up["org_id"], up["filename"], svc.blobs.get(up["blob_key"]))
    except ExtractionTimedOut:
        return failure("Asset type classification timed out", 504)
    except (ExtractionFailed, InvalidDocument) as exc:
        return failure(f"Asset type classification failed: {exc.message}", 500)
    asset_type, confidence = mapping.legacy_asset_type(extraction.result)
    return jsonify({"status": "success", "asset_type": asset_type, "confidence": confidence})


_DOMAIN_ASSET = {"healthcare": "medical", "hospitality": "other"}


@bp.post("/reclassify-asset-type")
def reclassify_asset_type() -> Response | tuple[Response, int]:
    """A manual asset type (the legacy list plus "other"), recorded as a corrected extraction version."""
    body = json_body() or {}
    caller = current_caller(request_user_id(body))
    token, new_type = body.get("file_path"), body.get("new_asset_type")
    if not token or not new_type:
        return bad_request("Missing required fields")
    up = upload_for(caller, token)
    if up is None:
        return bad_request("File not found", 404)
    if new_type not in mapping.ACCEPTED_ASSET_TYPES:
        return failure(f"Invalid asset type: {new_type}. Must be one of: {list(mapping.ACCEPTED_ASSET_TYPES)}", 400)
    svc = services()
    with svc.uow_factory() as uow:
        doc = uow.documents.find_by_hash(up["org_id"], up["content_hash"])
        has_extraction = doc is not None and uow.extractions.latest(up["org_id"], doc.id) is not None
    if doc is not None and has_extraction:
        save_correction(up["org_id"], doc.id, {"asset_type": _DOMAIN_ASSET.get(new_type, new_type)},
                        uow_factory=svc.uow_factory, user=caller.user_id or "legacy-app")
    return jsonify({"status": "success", "asset_type": new_type, "confidence": 1.0})


def _sse(event: str | None, data: dict[str, Any]) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


@bp.route("/stream-key-terms", methods=["GET", "POST"])
def stream_key_terms() -> Response:
    """Server-Sent Events driven by the document's real progress: connected, progress…, complete | error."""
    caller = current_caller(request_user_id())
    svc = services()
    if request.method == "POST":
        try:
            stored, _, err = receive_upload(caller)
        except InvalidDocument as exc:
            return _sse_error_only(exc.message)
        if err:
            return _sse_error_only(err[0].get_json()["error"])
        assert stored is not None
        data, up = None, stored
    else:
        name = request.args.get("filename")
        if not name:
            return _sse_error_only("No filename provided")
        with svc.uow_factory() as uow:
            found = records.find_upload(uow.conn, name, caller.org_id)
            if found is None and (caller.org_id or caller.user_id):
                # a bare file name is looked up only among the caller's own uploads; without any identity only
                # the full token (which carries the file's SHA-256) finds an upload
                own = reading_org(uow.conn, caller)
                found = records.find_upload_by_name(uow.conn, secure_filename(name), own) if own else None
            if found is not None and not may_read_upload(uow.conn, caller, found):
                found = None
        if found is None:
            return _sse_error_only("File not found")
        up = found
        data = None
    try:
        doc = _ingest(up["org_id"], up["filename"], data if data is not None else svc.blobs.get(up["blob_key"]))
    except InvalidDocument as exc:
        return _sse_error_only(exc.message)
    org_id, uow_factory, timeout_s = up["org_id"], svc.uow_factory, svc.settings.legacy_wait_s
    token = up.get("token")
    slots = wait_slots()
    release = slots.acquire()  # the stream holds an HTTP thread until the extraction ends: bounded

    def events() -> Iterator[str]:
        yield _sse("connected", {"status": "connected", "message": "Connected to key terms stream",
                                 "filepath": token, "document_id": doc.id})
        try:
            for kind, value in watch(org_id, doc.id, uow_factory=uow_factory, timeout_s=timeout_s, poll_s=0.1,
                                     stop=slots.closing):
                if kind == "progress":
                    yield _sse("progress", {"status": "streaming", "stage": value.get("stage", ""),
                                            "message": value.get("message", ""), "at": value.get("at")})
                else:
                    yield _sse("complete", {"status": "complete", "data": mapping.lease_summary(value.result),
                                            "metadata": mapping.source_data(value), "is_complete": True})
        except AtlasError as exc:
            yield _sse("error", {"status": "error", "error": exc.message, "is_complete": True})
        finally:
            release()

    resp = Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    resp.call_on_close(release)  # a client gone before the first event never runs the generator's finally
    return resp


def _sse_error_only(message: str) -> Response:
    """Input errors are an unnamed data message with HTTP 200, as the legacy stream sent them."""
    return Response(_sse(None, {"status": "error", "error": message}), mimetype="text/event-stream")

