"""/v1/webhooks: endpoints told of document.ready / document.failed (signed), and their delivery log."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.deps import current_org, require_org, services
from pipeline.domain.errors import ValidationFailed
from pipeline.usecases.webhooks import create_webhook

bp = Blueprint("webhooks", __name__, url_prefix="/v1")


@bp.post("/webhooks")
@require_org
def create() -> tuple[Response, int]:
    """Register {url, events?}; 201 with the signing secret (shown this once)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object with a 'url'")
    events = body.get("events")
    if events is not None and (not isinstance(events, list) or not all(isinstance(e, str) for e in events)):
        raise ValidationFailed("'events' must be a list of event names")
    svc = services()
    hook = create_webhook(current_org(), body.get("url"), events, uow_factory=svc.uow_factory,  # type: ignore[arg-type]
                          allow_private=svc.settings.webhooks_may_call_private)
    return jsonify(hook.to_dict(with_secret=True)), 201


@bp.get("/webhooks")
@require_org
def list_hooks() -> Response:
    """The organisation's webhooks (without secrets)."""
    with services().uow_factory() as uow:
        return jsonify({"webhooks": [h.to_dict() for h in uow.webhooks.list(current_org())]})


@bp.delete("/webhooks/<hook_id>")
@require_org
def delete(hook_id: str) -> tuple[str, int]:
    """Remove a webhook and its delivery log."""
    with services().uow_factory() as uow:
        uow.webhooks.delete(current_org(), hook_id)
        uow.commit()
    return "", 204


@bp.get("/webhooks/<hook_id>/deliveries")
@require_org
def deliveries(hook_id: str) -> Response:
    """The delivery log, newest first (?limit=1..500): status, attempts, last HTTP status or error."""
    raw = request.args.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ValidationFailed("limit must be an integer between 1 and 500")
    with services().uow_factory() as uow:
        rows = uow.webhooks.deliveries(current_org(), hook_id, limit=int(raw))
    return jsonify({"webhook_id": hook_id, "deliveries": [d.to_dict() for d in rows]})
