"""Corrections and undo are new versions with an audit trail; compare shows what changed."""
from __future__ import annotations

import pytest
from core_fakes import FakeBlobStore, FakeExtractor, FakeUowFactory, fake_check_upload, fake_parse

from pipeline.domain.errors import NotFound, ValidationFailed
from pipeline.domain.events import EXTRACTION_COMPLETED
from pipeline.usecases.extract import process_document
from pipeline.usecases.ingest import ingest
from pipeline.usecases.review import compare_versions, correct_fields, undo_last

LEASE = b"LEASE\nLandlord: Harbor LLC\nTenant: Nimbus Inc.\n"


@pytest.fixture()
def doc_env():
    uow, blobs = FakeUowFactory(), FakeBlobStore()
    doc, _ = ingest("org-a", "lease.txt", LEASE, uow_factory=uow, blobs=blobs, check_upload=fake_check_upload)
    process_document(doc.id, uow_factory=uow, blobs=blobs, parse=fake_parse, extractor=FakeExtractor())
    return uow, doc


def test_correction_is_a_new_version_with_who_when_old_and_new(doc_env):
    uow, doc = doc_env
    ext = correct_fields("org-a", doc.id, {"tenant": "Nimbus Analytics, Inc.", "security_deposit": 5000},
                         uow_factory=uow, user="ana", note="name per page 1")
    assert ext.version == 2 and ext.created_by == "ana"
    assert ext.result.field("tenant").value == "Nimbus Analytics, Inc."
    assert ext.result.field("tenant").confidence == 1.0 and ext.result.field("tenant").citations == []
    trail = {r["field"]: r for r in ext.result.reviews}
    assert trail["tenant"]["old"] == "Nimbus Inc." and trail["tenant"]["new"] == "Nimbus Analytics, Inc."
    assert trail["tenant"]["by"] == "ana" and trail["tenant"]["version"] == 2 and trail["tenant"]["at"]
    assert trail["security_deposit"]["old"] is None
    assert uow.state.outbox[-1].type == EXTRACTION_COMPLETED
    with uow() as u:
        first = u.extractions.get_version("org-a", doc.id, 1)
    assert first.result.field("tenant").value == "Nimbus Inc." and not first.result.reviews


def test_an_unchanged_value_keeps_its_citation(doc_env):
    uow, doc = doc_env
    ext = correct_fields("org-a", doc.id, {"tenant": "Nimbus Inc."}, uow_factory=uow, user="ana")
    assert ext.result.field("tenant").citations and ext.result.field("tenant").citations[0].quote == "Nimbus Inc."


@pytest.mark.parametrize("fields", [{"tenant": 12}, {"commencement_date": "March 1"}, {"asset_type": "castle"},
                                    {"no_such_field": "x"}, {"renewal_option": "yes"}, {}])
def test_values_that_do_not_fit_the_schema_are_refused(doc_env, fields):
    uow, doc = doc_env
    with pytest.raises(ValidationFailed):
        correct_fields("org-a", doc.id, fields, uow_factory=uow, user="ana")
    assert len(uow.state.extractions) == 1


def test_another_organisation_cannot_correct(doc_env):
    uow, doc = doc_env
    with pytest.raises(NotFound):
        correct_fields("org-b", doc.id, {"tenant": "Mallory"}, uow_factory=uow, user="eve")


def test_undo_restores_the_previous_value_and_citation_then_the_one_before(doc_env):
    uow, doc = doc_env
    correct_fields("org-a", doc.id, {"tenant": "A Corp"}, uow_factory=uow, user="ana")
    correct_fields("org-a", doc.id, {"tenant": "B Corp"}, uow_factory=uow, user="ana")
    undone = undo_last("org-a", doc.id, uow_factory=uow, user="bo")
    assert undone.version == 4 and undone.result.field("tenant").value == "A Corp"
    again = undo_last("org-a", doc.id, uow_factory=uow, user="bo")
    assert again.result.field("tenant").value == "Nimbus Inc."
    assert again.result.field("tenant").citations[0].quote == "Nimbus Inc."
    assert [r["action"] for r in again.result.reviews] == ["correct", "correct", "undo", "undo"]
    with pytest.raises(ValidationFailed):
        undo_last("org-a", doc.id, uow_factory=uow, user="bo")


def test_compare_lists_only_changed_fields(doc_env):
    uow, doc = doc_env
    correct_fields("org-a", doc.id, {"tenant": "A Corp"}, uow_factory=uow, user="ana")
    diff = compare_versions("org-a", doc.id, 1, 2, uow_factory=uow)
    assert [c["field"] for c in diff["changes"]] == ["tenant"]
    assert diff["changes"][0]["a"]["value"] == "Nimbus Inc." and diff["changes"][0]["b"]["value"] == "A Corp"
    with pytest.raises(NotFound):
        compare_versions("org-a", doc.id, 1, 9, uow_factory=uow)
