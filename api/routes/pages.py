"""/v1 page images: one page of an uploaded PDF as PNG, for drawing citation boxes over it."""
from __future__ import annotations

from flask import Blueprint, Response, request

from api.deps import current_org, require_org, services
from pipeline.domain.errors import ValidationFailed
from pipeline.usecases.pages import parse_scale, render_page

bp = Blueprint("pages", __name__, url_prefix="/v1")


@bp.get("/documents/<doc_id>/pages/<n>.png")
@require_org
def page_image(doc_id: str, n: str) -> Response:
    """Page n (1-based) as PNG at ?scale= pixels per point; X-Page-Width/-Height give its size in points."""
    if not n.isdigit() or len(n) > 6:
        raise ValidationFailed("the page number must be a positive integer")
    svc = services()
    image = render_page(current_org(), doc_id, int(n), parse_scale(request.args.get("scale")),
                        uow_factory=svc.uow_factory, blobs=svc.blobs)
    resp = Response(image.png, mimetype="image/png")
    resp.headers["X-Page-Width"] = f"{image.width_pt:.2f}"
    resp.headers["X-Page-Height"] = f"{image.height_pt:.2f}"
    resp.headers["X-Page-Scale"] = f"{image.scale:.4f}"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
