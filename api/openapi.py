"""The OpenAPI 3.1 description of the /v1 API (served at /openapi.json, fuzzed by schemathesis)."""
from __future__ import annotations

from typing import Any

_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "object", "required": ["code", "message"],
                                   "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                                  "request_id": {"type": ["string", "null"]}}}}}
_DOC = {"type": "object", "required": ["id", "status", "filename", "content_hash"],
        "properties": {"id": {"type": "string"}, "org_id": {"type": "string"}, "filename": {"type": "string"},
                       "content_hash": {"type": "string"}, "size_bytes": {"type": "integer"},
                       "media_type": {"type": "string"},
                       "status": {"type": "string", "enum": ["queued", "processing", "ready", "failed"]},
                       "error_code": {"type": ["string", "null"]}, "error_message": {"type": ["string", "null"]},
                       "page_count": {"type": ["integer", "null"]}, "progress": {"type": "object"},
                       "warnings": {"type": "array"}, "status_url": {"type": "string"},
                       "extraction_url": {"type": "string"}, "created_at": {"type": "string"},
                       "updated_at": {"type": "string"}, "duplicate": {"type": "boolean"}}}


def _err(desc: str) -> dict[str, Any]:
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(desc: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": desc, "content": {"application/json": {"schema": schema}}}


_AUTH_ERRORS = {"401": _err("missing, invalid, revoked or expired API key"), "429": _err("rate limited")}
_DOC_ID = [{"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Atlas lease extraction API", "version": "1.0.0",
                 "description": "Upload leases, read their cited terms and ask questions across them."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Document": _DOC},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {"security": [], "summary": "Liveness",
                                "responses": {"200": _ok("alive", {"type": "object"})}}},
            "/ready": {"get": {"security": [], "summary": "Readiness (database, blob store, queue)",
                               "responses": {"200": _ok("ready", {"type": "object"}),
                                             "503": _ok("not ready", {"type": "object"})}}},
            "/v1/schema/extraction": {"get": {"security": [], "summary": "JSON Schema of an extraction",
                                              "responses": {"200": _ok("schema", {"type": "object"})}}},
            "/v1/documents": {
                "post": {
                    "summary": "Upload a lease (multipart field 'file')",
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                    "schema": {"type": "string", "maxLength": 200},
                                    "description": "replays the first answer for the same key and request; "
                                                   "409 when the key was used for a different request"}],
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                    "responses": {"202": _ok("accepted and queued", {"$ref": "#/components/schemas/Document"}),
                                  "200": _ok("the same bytes were already uploaded",
                                             {"$ref": "#/components/schemas/Document"}),
                                  "400": _err("bad request"), "413": _err("too large"),
                                  "409": _err("Idempotency-Key reused for a different request"),
                                  "415": _err("unsupported or mismatched type"), "422": _err("invalid document"),
                                  **_AUTH_ERRORS}},
                "get": {
                    "summary": "List documents",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "status", "in": "query",
                         "schema": {"type": "string", "enum": ["queued", "processing", "ready", "failed"]}}],
                    "responses": {"200": _ok("documents", {"type": "object", "required": ["documents"], "properties": {
                        "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}}),
                        "400": _err("bad parameters"), **_AUTH_ERRORS}},
            },
            "/v1/documents/{doc_id}": {
                "parameters": _DOC_ID,
                "get": {"summary": "Document status",
                        "responses": {"200": _ok("document", {"$ref": "#/components/schemas/Document"}),
                                      "404": _err("unknown document"), **_AUTH_ERRORS}},
                "delete": {"summary": "Delete a document (bytes, rows, vectors)",
                           "responses": {"204": {"description": "deleted"}, "404": _err("unknown document"),
                                         **_AUTH_ERRORS}},
            },
            "/v1/documents/{doc_id}/extraction": {
                "parameters": _DOC_ID,
                "get": {"summary": "Latest extraction (or ?version=N)",
                        "parameters": [{"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                        "responses": {"200": _ok("extraction", {"type": "object", "required": ["fields", "version"]}),
                                      "400": _err("bad version"), "404": _err("unknown document or not ready"),
                                      **_AUTH_ERRORS}},
            },
            "/v1/documents/{doc_id}/consolidated": {
                "parameters": _DOC_ID,
                "get": {"summary": "Current terms of a lease after its linked amendments (an amendment id gives "
                                   "its lease's); each value cites the document that set it",
                        "responses": {"200": _ok("consolidated terms", {
                            "type": "object", "required": ["document_id", "fields", "rent_schedule", "sources",
                                                           "history"],
                            "properties": {"document_id": {"type": "string"}, "fields": {"type": "object"},
                                           "rent_schedule": {"type": "array"}, "risk_flags": {"type": "array"},
                                           "sources": {"type": "array", "items": {"type": "object", "required": [
                                               "document_id", "filename", "kind", "role"]}},
                                           "history": {"type": "object"}}}),
                                      "404": _err("unknown document or not ready"), **_AUTH_ERRORS}},
            },
            "/v1/query": {"post": {
                "summary": "Ask a question across your documents",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["question"],
                    "properties": {"question": {"type": "string", "minLength": 1, "maxLength": 2000},
                                   "document_ids": {"type": "array", "items": {"type": "string"}},
                                   "top_k": {"type": "integer", "minimum": 1, "maximum": 50}}}}}},
                "responses": {"200": _ok("answer with sources", {
                    "type": "object", "required": ["answer", "sources"],
                    "properties": {
                        "answer": {"type": "string"},
                        "mode": {"type": "string", "enum": ["extractive", "structured", "portfolio", "llm"]},
                        "question_kind": {"type": "string", "enum": ["field", "clause", "portfolio", "other"]},
                        "refused": {"type": "boolean",
                                    "description": "true when the documents don't state the answer"},
                        "sources": {"type": "array", "items": {"type": "object", "required": [
                            "document_id", "page", "quote", "start", "end"]}},
                        "leases": {"type": "array", "items": {"type": "string"},
                                   "description": "portfolio questions: the matching document ids"},
                        "checked": {"type": "integer", "description": "portfolio questions: leases checked"},
                        "undecided": {"type": "array", "items": {"type": "object"},
                                      "description": "portfolio questions: leases whose field is missing or "
                                                     "needs review"}}}),
                              "400": _err("bad request"), "404": _err("a document id is unknown to you"),
                              **_AUTH_ERRORS}}},
            **_webhook_paths(),
            "/v1/leases": {"get": {
                "summary": "Portfolio filter over the latest extractions",
                "parameters": [
                    {"name": "expires_before", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "expires_after", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "min_rent", "in": "query", "schema": {"type": "number"}},
                    {"name": "max_rent", "in": "query", "schema": {"type": "number"}},
                    {"name": "flag", "in": "query", "schema": {"type": "string"}},
                    {"name": "governing_law", "in": "query", "schema": {"type": "string"}},
                    {"name": "asset_type", "in": "query", "schema": {"type": "string"}},
                    {"name": "renewal_option", "in": "query", "schema": {"type": "string", "enum": ["true"]}}],
                "responses": {"200": _ok("leases", {"type": "object", "required": ["leases"]}),
                              "400": _err("bad parameters"), **_AUTH_ERRORS}}},
            **_review_paths(),
            **_export_paths(),
            **_page_paths(),
        },
    }


_EXTRACTION = {"type": "object", "required": ["version", "fields", "reviews"]}


def _review_paths() -> dict[str, Any]:
    """Human review: corrections, undo, versions, compare."""
    field = _DOC_ID + [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "/v1/documents/{doc_id}/extraction/fields/{name}": {"parameters": field, "patch": {
            "summary": "Correct one field: a new reviewed version (who, when, old -> new in 'reviews')",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["value"],
                "properties": {"value": {}, "note": {"type": "string", "maxLength": 2000},
                               "reviewed_by": {"type": "string", "minLength": 1, "maxLength": 200}}}}}},
            "responses": {"200": _ok("the new version", _EXTRACTION), "400": _err("invalid field or value"),
                          "404": _err("unknown document or no extraction yet"), **_AUTH_ERRORS}}},
        "/v1/documents/{doc_id}/extraction/undo": {"parameters": _DOC_ID, "post": {
            "summary": "Undo the latest correction: a new version restoring the earlier values",
            "responses": {"200": _ok("the new version", _EXTRACTION), "400": _err("nothing to undo"),
                          "404": _err("unknown document"), **_AUTH_ERRORS}}},
        "/v1/documents/{doc_id}/extraction/versions": {"parameters": _DOC_ID, "get": {
            "summary": "Every version: number, author, time",
            "responses": {"200": _ok("versions", {"type": "object", "required": ["versions"]}),
                          "404": _err("unknown document"), **_AUTH_ERRORS}}},
        "/v1/documents/{doc_id}/extraction/compare": {"parameters": _DOC_ID, "get": {
            "summary": "Fields that differ between two versions (default: the two latest)",
            "parameters": [{"name": "a", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                           {"name": "b", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": _ok("changes", {"type": "object", "required": ["changes"]}),
                          "400": _err("bad parameters"), "404": _err("unknown document or version"),
                          **_AUTH_ERRORS}}},
    }


def _download(desc: str, media_type: str) -> dict[str, Any]:
    return {"description": desc, "content": {media_type: {"schema": {"type": "string"}}}}


def _export_paths() -> dict[str, Any]:
    """Portfolio exports and the per-lease JSON export."""
    return {
        "/v1/exports/abstract.csv": {"get": {"summary": "The portfolio abstract, a row per lease (CSV)",
                                             "responses": {"200": _download("CSV", "text/csv"), **_AUTH_ERRORS}}},
        "/v1/exports/abstract.xlsx": {"get": {"summary": "The portfolio abstract as an Excel workbook", "responses": {
            "200": _download("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            **_AUTH_ERRORS}}},
        "/v1/exports/critical-dates.ics": {"get": {
            "summary": "Expirations, renewal-notice deadlines and rent steps (iCalendar)",
            "responses": {"200": _download("iCalendar", "text/calendar"), **_AUTH_ERRORS}}},
        "/v1/documents/{doc_id}/export.json": {"parameters": _DOC_ID, "get": {
            "summary": "One lease: document and latest extraction with citations and review trail",
            "responses": {"200": _ok("lease", {"type": "object", "required": ["document", "extraction"]}),
                          "404": _err("unknown document or no extraction yet"), **_AUTH_ERRORS}}},
    }


def _page_paths() -> dict[str, Any]:
    """Page images of PDFs (the review workspace draws citation boxes over them)."""
    page = _DOC_ID + [{"name": "n", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]
    return {
        "/v1/documents/{doc_id}/pages/{n}.png": {"parameters": page, "get": {
            "summary": "Page n of a PDF as PNG; X-Page-Width and X-Page-Height give its size in PDF points, the unit "
                       "of citation bboxes (origin top-left)",
            "parameters": [{"name": "scale", "in": "query",
                            "schema": {"type": "number", "minimum": 0.25, "maximum": 3, "default": 1.5},
                            "description": "pixels per PDF point; pages are capped at 2400 px on their long side"}],
            "responses": {"200": {"description": "PNG", "content": {"image/png": {
                              "schema": {"type": "string", "format": "binary"}}}},
                          "400": _err("bad page number or scale"),
                          "404": _err("unknown document or page, or not a PDF (code no_page_image)"),
                          "422": _err("the PDF cannot be rendered"), "503": _err("renderer busy; retry"),
                          **_AUTH_ERRORS}}},
    }


_HOOK_ID = [{"name": "hook_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _webhook_paths() -> dict[str, Any]:
    """Webhooks and their delivery log."""
    hook = {"type": "object", "required": ["id", "url", "events"],
            "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "secret": {"type": "string"},
                           "events": {"type": "array", "items": {"enum": ["document.ready", "document.failed"]}},
                           "created_at": {"type": "string"}}}
    return {
        "/v1/webhooks": {
            "post": {"summary": "Register an endpoint for document.ready / document.failed (secret shown once)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["url"],
                         "properties": {"url": {"type": "string", "maxLength": 2000},
                                        "events": {"type": "array", "items": {
                                            "enum": ["document.ready", "document.failed"]}}}}}}},
                     "responses": {"201": _ok("registered, with its signing secret", hook),
                                   "400": _err("bad url or events"), **_AUTH_ERRORS}},
            "get": {"summary": "The organisation's webhooks (no secrets)",
                    "responses": {"200": _ok("webhooks", {"type": "object", "required": ["webhooks"], "properties": {
                        "webhooks": {"type": "array", "items": hook}}}), **_AUTH_ERRORS}}},
        "/v1/webhooks/{hook_id}": {"parameters": _HOOK_ID, "delete": {
            "summary": "Remove a webhook and its delivery log",
            "responses": {"204": {"description": "deleted"}, "404": _err("unknown webhook"), **_AUTH_ERRORS}}},
        "/v1/webhooks/{hook_id}/deliveries": {"parameters": _HOOK_ID, "get": {
            "summary": "Delivery log, newest first",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                        "maximum": 500}}],
            "responses": {"200": _ok("deliveries", {"type": "object", "required": ["deliveries"]}),
                          "400": _err("bad limit"), "404": _err("unknown webhook"), **_AUTH_ERRORS}}},
    }
