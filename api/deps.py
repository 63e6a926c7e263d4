"""Request-scoped access to the services and the caller's organisation."""
from __future__ import annotations

import hashlib
from functools import wraps
from typing import Any, Callable

from flask import Response, current_app, g, jsonify, make_response, request

from pipeline.bootstrap import Services
from pipeline.domain.errors import Conflict, NotFound, ValidationFailed
from pipeline.keys import authenticate

IDEMPOTENCY_HEADER = "Idempotency-Key"


def services() -> Services:
    """The app's composition root."""
    return current_app.extensions["atlas"]


def bearer_token() -> str | None:
    """The key from 'Authorization: Bearer …' (or X-API-Key)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def current_org() -> str:
    """The authenticated organisation of this request (set by require_org)."""
    return g.org_id


def require_org(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate the request's API key (rate limits are applied before, see api.ratelimit); views read current_org()."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        svc = services()
        token = bearer_token()
        g.org_id = authenticate(token, uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
            return _idempotent(svc, view, args, kwargs)
        return view(*args, **kwargs)

    return wrapper


def request_fingerprint() -> str:
    """What makes two POSTs 'the same request': path, form fields and file names/bytes, or the raw body.

    Multipart boundaries differ on every send, so uploads are compared by their parts, not their raw bytes.
    """
    h = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if (request.mimetype or "").startswith("multipart/form-data"):
        # werkzeug can give a nameless part a None name: order by text, never compare None with str
        for name, value in sorted(request.form.items(multi=True), key=lambda kv: (str(kv[0]), str(kv[1]))):
            h.update(f"form {name!r}={value!r}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            h.update(f"file {name} {upload.filename!r}\n".encode())
            for chunk in iter(lambda: upload.stream.read(1 << 20), b""):
                h.update(chunk)
            upload.stream.seek(0)
    else:
        h.update(request.get_data(cache=True))
    return h.hexdigest()


def _target_exists(uow: Any, stored: dict) -> bool:
    """Whether the document a stored upload response names still exists (True when it names none)."""
    body = stored.get("body")
    if request.endpoint != "documents.create_document" or not isinstance(body, dict) or "id" not in body:
        return True
    try:
        uow.documents.get(current_org(), str(body["id"]))
    except NotFound:
        return False
    return True


def _replay(status: int, stored: dict, fingerprint: str) -> Response:
    if stored.get("fingerprint") != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request", code="idempotency_conflict")
    resp = jsonify(stored.get("body"))
    resp.status_code = status
    if stored.get("location"):
        resp.headers["Location"] = stored["location"]
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _idempotent(svc: Services, view: Callable[..., Any], args: tuple, kwargs: dict) -> Response:
    """Run a POST once per (organisation, Idempotency-Key); later sends get the stored first response."""
    key = request.headers[IDEMPOTENCY_HEADER].strip()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise ValidationFailed("Idempotency-Key must be 1 to 200 printable characters")
    fingerprint = request_fingerprint()
    with svc.uow_factory() as uow:
        stored = uow.idempotency.get(current_org(), key)
        if stored is not None and not _target_exists(uow, stored[1]):
            raise Conflict("the document created with this Idempotency-Key has since been deleted; "
                           "send the upload again with a new key", code="idempotency_target_deleted")
    if stored is not None:
        return _replay(*stored, fingerprint)
    resp = make_response(view(*args, **kwargs))
    if resp.status_code >= 400 or not resp.is_json:
        return resp  # errors are not remembered: the client may fix the cause and retry with the same key
    record = {"fingerprint": fingerprint, "body": resp.get_json(), "location": resp.headers.get("Location")}
    with svc.uow_factory() as uow:
        stored_now = uow.idempotency.put(current_org(), key, resp.status_code, record)
        uow.commit()
    if not stored_now:  # a concurrent request with the same key finished first: answer as it did
        with svc.uow_factory() as uow:
            stored = uow.idempotency.get(current_org(), key)
        if stored is not None:
            return _replay(*stored, fingerprint)
    return resp
