"""/v1 review: correct a field (a new reviewed version), undo, compare versions, list versions."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api.deps import bearer_token, current_org, require_org, services
from pipeline.domain.errors import NotFound, ValidationFailed
from pipeline.usecases.review import compare_versions, correct_fields, undo_last

bp = Blueprint("review", __name__, url_prefix="/v1")

MAX_NOTE_CHARS = 2000
MAX_REVIEWER_CHARS = 200


def reviewer() -> str:
    """Who made the change: the body's 'reviewed_by' (a person) with the key that made the call."""
    token = bearer_token() or ""
    key = token.split("_", 2)[1] if token.count("_") >= 2 else "unknown"
    body = request.get_json(silent=True) or {}
    person = body.get("reviewed_by") if isinstance(body, dict) else None
    if person is not None and (not isinstance(person, str) or not 0 < len(person) <= MAX_REVIEWER_CHARS):
        raise ValidationFailed(f"reviewed_by must be a string of 1-{MAX_REVIEWER_CHARS} characters")
    return f"{person} (key {key})" if person else f"key {key}"


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object")
    return body


@bp.patch("/documents/<doc_id>/extraction/fields/<name>")
@require_org
def correct_field(doc_id: str, name: str) -> Response:
    """Correct one field: {"value": ..., "note"?, "reviewed_by"?} → the new reviewed version."""
    body = _json_body()
    if "value" not in body:
        raise ValidationFailed("the body needs 'value' (null clears the field)")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
        raise ValidationFailed(f"note must be a string of at most {MAX_NOTE_CHARS} characters")
    ext = correct_fields(current_org(), doc_id, {name: body["value"]}, uow_factory=services().uow_factory,
                         user=reviewer(), note=note)
    return jsonify(ext.to_dict())


@bp.post("/documents/<doc_id>/extraction/undo")
@require_org
def undo(doc_id: str) -> Response:
    """Undo the latest correction not yet undone → a new version."""
    ext = undo_last(current_org(), doc_id, uow_factory=services().uow_factory, user=reviewer())
    return jsonify(ext.to_dict())


@bp.get("/documents/<doc_id>/extraction/versions")
@require_org
def versions(doc_id: str) -> Response:
    """Every version of the document's extraction: number, author and time."""
    with services().uow_factory() as uow:
        uow.documents.get(current_org(), doc_id)
        rows = [uow.extractions.get_version(current_org(), doc_id, v)
                for v in uow.extractions.versions(current_org(), doc_id)]
    return jsonify({"document_id": doc_id, "versions": [
        {"version": e.version, "created_by": e.created_by, "created_at": e.created_at.isoformat(),
         "extractor_version": e.extractor_version} for e in rows if e is not None]})


@bp.get("/documents/<doc_id>/extraction/compare")
@require_org
def compare(doc_id: str) -> Response:
    """Fields that differ between versions ?a=N&b=M (default: the two latest)."""
    with services().uow_factory() as uow:
        uow.documents.get(current_org(), doc_id)
        known = uow.extractions.versions(current_org(), doc_id)
    if not known:
        raise NotFound(f"document {doc_id} has no extraction yet")
    try:
        b = int(request.args.get("b", known[-1]))
        a = int(request.args.get("a", known[-2] if len(known) > 1 else known[-1]))
    except ValueError as exc:
        raise ValidationFailed("a and b must be version numbers") from exc
    if a not in known or b not in known:
        raise NotFound(f"document {doc_id} has versions {known[0]}..{known[-1]} only")
    return jsonify(compare_versions(current_org(), doc_id, a, b, uow_factory=services().uow_factory))
