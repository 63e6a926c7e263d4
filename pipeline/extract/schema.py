"""JSON Schema of ExtractionResult.to_dict() (published at GET /v1/schema/extraction and in pipeline/schema/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.domain.model import ASSET_TYPES, EXPENSE_RECOVERY_TYPES, FIELD_NAMES, RISK_FLAG_TYPES

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "extraction.schema.json"

_VALUE_TYPES: dict[str, dict[str, Any]] = {
    "landlord": {"type": ["string", "null"]}, "tenant": {"type": ["string", "null"]},
    "premises_address": {"type": ["string", "null"]}, "suite": {"type": ["string", "null"]},
    "leased_area_sqft": {"type": ["number", "null"]},
    "commencement_date": {"type": ["string", "null"], "format": "date"},
    "expiration_date": {"type": ["string", "null"], "format": "date"},
    "term_months": {"type": ["integer", "null"]}, "base_rent_monthly": {"type": ["number", "null"]},
    "currency": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
    "security_deposit": {"type": ["number", "null"]}, "renewal_option": {"type": ["boolean", "null"]},
    "renewal_terms": {"type": ["string", "null"]}, "governing_law": {"type": ["string", "null"]},
    "expense_recovery_type": {"enum": list(EXPENSE_RECOVERY_TYPES) + [None]},
    "free_rent_months": {"type": ["number", "null"]},
    "escalation": {"type": ["object", "null"]},
    "asset_type": {"enum": list(ASSET_TYPES) + [None]},
}


def value_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one field's value."""
    return _VALUE_TYPES.get(name, {})


def _citation() -> dict[str, Any]:
    return {"type": "object", "required": ["page", "start", "end", "quote"], "additionalProperties": False,
            "properties": {"page": {"type": "integer", "minimum": 1}, "start": {"type": "integer", "minimum": 0},
                           "end": {"type": "integer", "minimum": 0}, "quote": {"type": "string"},
                           "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                           "document_id": {"type": "string"}}}


def _field(value_schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["value", "raw", "confidence", "status", "citations"],
            "additionalProperties": False,
            "properties": {"value": value_schema, "raw": {"type": ["string", "null"]},
                           "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                           "status": {"enum": ["found", "not_found", "needs_review"]},
                           "citations": {"type": "array", "items": {"$ref": "#/$defs/citation"}}}}


def extraction_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an extraction result as returned by the API and CLI."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://atlas.example/schema/extraction.schema.json",
        "title": "Atlas lease extraction",
        "type": "object",
        "required": ["kind", "extractor", "extractor_version", "fields", "rent_schedule", "risk_flags", "warnings"],
        "$defs": {"citation": _citation()},
        "properties": {
            "kind": {"enum": ["lease", "amendment", "not_a_lease"]},
            "extractor": {"type": "string"},
            "extractor_version": {"type": "string"},
            "fields": {"type": "object", "required": list(FIELD_NAMES),
                       "properties": {n: _field(_VALUE_TYPES.get(n, {})) for n in FIELD_NAMES},
                       "additionalProperties": _field({})},
            "rent_schedule": {"type": "array", "items": {
                "type": "object", "required": ["start", "end", "monthly_rent"],
                "properties": {"start": {"type": ["string", "null"], "format": "date"},
                               "end": {"type": ["string", "null"], "format": "date"},
                               "monthly_rent": {"type": "number"}, "annual_psf": {"type": ["number", "null"]},
                               "citations": {"type": "array", "items": {"$ref": "#/$defs/citation"}}}}},
            "risk_flags": {"type": "array", "items": {
                "type": "object", "required": ["type", "severity", "explanation", "confidence", "citations"],
                "properties": {"type": {"enum": list(RISK_FLAG_TYPES)},
                               "severity": {"enum": ["low", "medium", "high"]},
                               "explanation": {"type": "string"},
                               "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                               "citations": {"type": "array", "items": {"$ref": "#/$defs/citation"}}}}},
            "warnings": {"type": "array", "items": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "citations": {"type": "array", "items": {"$ref": "#/$defs/citation"}}}}},
            "usage": {"type": "object"},
            "reviews": {"type": "array", "items": {
                "type": "object", "required": ["action", "field", "old", "new", "by", "at", "version"],
                "properties": {"action": {"enum": ["correct", "undo"]}, "field": {"type": "string"},
                               "by": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                               "version": {"type": "integer", "minimum": 1}}}},
        },
    }


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema file (sorted keys, stable bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(extraction_json_schema(), indent=2, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":
    print(write_schema())
