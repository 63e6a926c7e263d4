"""The published JSON Schema matches the code and validates real results."""
from __future__ import annotations

import json

import jsonschema

from pipeline.extract.schema import SCHEMA_PATH, extraction_json_schema


def test_schema_file_matches_code():
    assert json.loads(SCHEMA_PATH.read_text()) == extraction_json_schema()


def test_result_validates(extract, leases):
    result = extract(leases["narrative"]).to_dict()
    jsonschema.validate(result, extraction_json_schema())
    result["fields"]["currency"]["status"] = "maybe"
    try:
        jsonschema.validate(result, extraction_json_schema())
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid status passed validation")
