"""Human review of an abstract: field corrections and undo as new versions, with an audit trail."""
from __future__ import annotations

import copy
from typing import Any, Callable

import jsonschema

from pipeline.domain.errors import NotFound, ValidationFailed
from pipeline.domain.events import extraction_completed
from pipeline.domain.model import FIELD_NAMES, Extraction, FieldStatus, FieldValue, new_id, utcnow
from pipeline.extract.schema import value_schema


def _check_value(name: str, value: Any) -> None:
    """ValidationFailed unless the value fits the field's type in the extraction schema."""
    if name not in FIELD_NAMES:
        raise ValidationFailed(f"unknown field {name!r}; fields are: {', '.join(FIELD_NAMES)}")
    try:
        jsonschema.validate(value, value_schema(name), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        raise ValidationFailed(f"invalid value for {name}: {exc.message}") from exc


def correct_fields(org_id: str, doc_id: str, values: dict[str, Any], *, uow_factory: Callable,
                   user: str, note: str | None = None) -> Extraction:
    """Save corrected field values as a new reviewed version; each change is recorded (who, when, old -> new)."""
    if not values:
        raise ValidationFailed("no field values to correct")
    for name, value in values.items():
        _check_value(name, value)
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        latest = uow.extractions.latest(org_id, doc_id)
        if latest is None:
            raise NotFound(f"document {doc_id} has no extraction yet")
        result = copy.deepcopy(latest.result)
        version = uow.extractions.next_version(doc_id)
        at = utcnow().isoformat()
        for name, value in values.items():
            prev = result.field(name)
            # the old citation still supports an unchanged value; a changed one is the reviewer's word
            result.fields[name] = FieldValue(value=value, raw=prev.raw if value == prev.value else None,
                                             confidence=1.0,
                                             status=FieldStatus.FOUND if value is not None else FieldStatus.NOT_FOUND,
                                             citations=prev.citations if value == prev.value else [])
            result.reviews.append({"action": "correct", "field": name, "old": prev.value, "new": value,
                                   "by": user, "at": at, "version": version, "note": note})
        ext = Extraction(id=new_id(), document_id=doc_id, org_id=org_id, version=version, result=result,
                         extractor_version=_human(latest.extractor_version), content_hash=doc.content_hash,
                         created_by=user)
        uow.extractions.add(ext)
        uow.outbox.add(extraction_completed(org_id, doc_id, version))
        uow.commit()
        return ext


def undo_last(org_id: str, doc_id: str, *, uow_factory: Callable, user: str) -> Extraction:
    """Undo the latest correction: a new version restoring the fields that correction changed."""
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        latest = uow.extractions.latest(org_id, doc_id)
        if latest is None:
            raise NotFound(f"document {doc_id} has no extraction yet")
        targets = [r for r in latest.result.reviews if r["action"] == "correct" and not r.get("undone_by")]
        if not targets:
            raise ValidationFailed("there is no correction to undo")
        last_version = targets[-1]["version"]
        previous = uow.extractions.get_version(org_id, doc_id, last_version - 1)
        if previous is None:
            raise NotFound(f"version {last_version - 1} of document {doc_id} is gone")
        result = copy.deepcopy(latest.result)
        version = uow.extractions.next_version(doc_id)
        at = utcnow().isoformat()
        for entry in [r for r in result.reviews if r["action"] == "correct" and r["version"] == last_version]:
            name = entry["field"]
            result.fields[name] = copy.deepcopy(previous.result.field(name))
            entry["undone_by"] = version
            result.reviews.append({"action": "undo", "field": name, "old": entry["new"], "new": entry["old"],
                                   "by": user, "at": at, "version": version, "undoes": last_version})
        ext = Extraction(id=new_id(), document_id=doc_id, org_id=org_id, version=version, result=result,
                         extractor_version=latest.extractor_version, content_hash=doc.content_hash,
                         created_by=user)
        uow.extractions.add(ext)
        uow.outbox.add(extraction_completed(org_id, doc_id, version))
        uow.commit()
        return ext


def compare_versions(org_id: str, doc_id: str, a: int, b: int, *, uow_factory: Callable) -> dict[str, Any]:
    """The fields whose values differ between two versions, side by side."""
    with uow_factory() as uow:
        uow.documents.get(org_id, doc_id)
        left = uow.extractions.get_version(org_id, doc_id, a)
        right = uow.extractions.get_version(org_id, doc_id, b)
    if left is None or right is None:
        raise NotFound(f"document {doc_id} has no version {a if left is None else b}")
    names = list(FIELD_NAMES) + sorted((set(left.result.fields) | set(right.result.fields)) - set(FIELD_NAMES))
    changes = [{"field": n, "a": left.result.field(n).to_dict(), "b": right.result.field(n).to_dict()}
               for n in names if left.result.field(n).value != right.result.field(n).value]
    return {"document_id": doc_id, "a": {"version": a, "created_by": left.created_by},
            "b": {"version": b, "created_by": right.created_by}, "changes": changes}


def _human(extractor_version: str) -> str:
    """The extractor version of a human-reviewed version (kept once, not stacked)."""
    return extractor_version if extractor_version.startswith("human:") else f"human:{extractor_version}"
