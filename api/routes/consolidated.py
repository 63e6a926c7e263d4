"""/v1/documents/{id}/consolidated: a lease's current terms after its amendments, each value citing its document."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.deps import current_org, require_org, services
from pipeline.usecases.consolidate import consolidated_terms

bp = Blueprint("consolidated", __name__, url_prefix="/v1")


@bp.get("/documents/<doc_id>/consolidated")
@require_org
def get_consolidated(doc_id: str) -> Response:
    """The lease's fields overridden in order by every linked amendment (an amendment id gives its lease's)."""
    svc = services()
    return jsonify(consolidated_terms(current_org(), doc_id, uow_factory=svc.uow_factory, blobs=svc.blobs))
