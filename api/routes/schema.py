"""/v1/schema/extraction: the JSON Schema of an extraction."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

bp = Blueprint("schema", __name__, url_prefix="/v1")


@bp.get("/schema/extraction")
def extraction_schema() -> Response:
    """The published JSON Schema (also in pipeline/schema/extraction.schema.json)."""
    from pipeline.extract.schema import extraction_json_schema

    return jsonify(extraction_json_schema())
