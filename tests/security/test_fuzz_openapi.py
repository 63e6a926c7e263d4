"""Schemathesis against /openapi.json: no 500s and no responses outside the documented schema (bounded)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from hypothesis import HealthCheck, settings

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.keys import create_key
from pipeline.settings import load_settings

_TMP = Path(tempfile.mkdtemp(prefix="atlas-fuzz-"))
_SERVICES = build(load_settings(ATLAS_DATA_DIR=str(_TMP), ATLAS_RATE_LIMIT_PER_MINUTE=100000), migrate=True)
_APP = create_app(_SERVICES)
_, _KEY, _ = create_key("fuzz", uow_factory=_SERVICES.uow_factory, pepper=_SERVICES.settings.api_key_pepper)

schema = schemathesis.openapi.from_wsgi("/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    # unknown query parameters are ignored by design, so "negative data accepted" is not a defect here;
    # and a schema-valid upload (any bytes) is rightly refused when it is not a lease format;
    # every other check (no 5xx, documented status codes, response schemas, content types) applies
    case.call_and_validate(headers={"Authorization": f"Bearer {_KEY}"}, excluded_checks=[negative_data_rejection, positive_data_acceptance])


def test_fuzzing_found_routes():
    ops = list(schema.get_all_operations())
    assert len(ops) >= 8
