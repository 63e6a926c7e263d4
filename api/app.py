"""The Flask app factory: blueprints, CORS, request ids, errors; views call use cases and nothing else."""
from __future__ import annotations

import uuid

from flask import Flask, Response, g, jsonify, request
from flask_cors import CORS

from api import errors, ratelimit
from api.legacy.waits import WaitSlots
from api.openapi import openapi_document
from pipeline.bootstrap import Services, build
from pipeline.logging_setup import request_id_var, trace_var
from pipeline.plugins import import_optional
from pipeline.settings import Settings, load_settings


def create_app(services: Services | None = None, settings: Settings | None = None) -> Flask:
    """Build the API around the given services (tests) or the ones the settings describe."""
    started_here = services is None
    if services is None:
        settings = settings or load_settings()
        settings.check_production()
        services = build(settings)
    settings = services.settings
    settings.check_production()

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 1024 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.config["DEBUG"] = settings.debug and not settings.is_production
    app.extensions["atlas"] = services
    ratelimit.install(app, settings)
    app.extensions["atlas_wait_slots"] = WaitSlots(settings.legacy_max_waits)
    CORS(app, origins=settings.cors_origin_list, supports_credentials=True,
         allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-API-Key", "X-Request-Id"],
         expose_headers=["X-Request-Id", "Location", "Retry-After", "Content-Range", "Accept-Ranges"])

    @app.before_request
    def _request_id() -> None:
        rid = request.headers.get("X-Request-Id", "")
        g.request_id = rid if 0 < len(rid) <= 64 and rid.replace("-", "").isalnum() else uuid.uuid4().hex
        request_id_var.set(g.request_id)
        trace = request.headers.get("X-Cloud-Trace-Context", "").split("/")[0]
        trace_var.set(f"projects/{settings.gcp_project}/traces/{trace}" if trace and settings.gcp_project else None)

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["X-Request-Id"] = getattr(g, "request_id", "")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    errors.install(app)
    from api import webapp
    from api.routes import consolidated, documents, exports, health, pages, review, schema, webhooks

    for bp in (health.bp, documents.bp, consolidated.bp, schema.bp, review.bp, exports.bp, webhooks.bp, pages.bp,
               webapp.bp):
        app.register_blueprint(bp)
    _register_optional(app, settings)
    search = import_optional("pipeline.adapters.chroma_search") if started_here else None
    if search is not None:  # a real start (tests inject services): load the index off the first query's path
        search.warm_search(services)

    @app.get("/openapi.json")
    def _openapi() -> Response:
        return jsonify(openapi_document())

    return app


def _register_optional(app: Flask, settings: Settings) -> None:
    """Blueprints of later capabilities, registered when their modules are present."""
    for module, attr, enabled in (("api.routes.query", "bp", True),
                                  ("api.routes.uploads", "bp", settings.runtime == "gcp"),
                                  ("api.legacy", "bp", settings.legacy_api)):
        if not enabled:
            continue
        mod = import_optional(module)
        if mod is not None:
            app.register_blueprint(getattr(mod, attr))
