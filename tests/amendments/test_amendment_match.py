"""The matching rules: party and address normalisation, dates stated in recitals, the link threshold."""
from __future__ import annotations

from datetime import date

from pipeline.domain.model import Extraction, ExtractionResult, FieldStatus, FieldValue
from pipeline.usecases.consolidate import (LINK_THRESHOLD, _qualifies, match_score, normalise_party,
                                           premises_similarity, text_facts)


def _ext(kind: str, **values: object) -> Extraction:
    fields = {k: FieldValue(value=v, confidence=0.9, status=FieldStatus.FOUND) for k, v in values.items()}
    return Extraction(id="e", document_id="d", org_id="o", version=1, extractor_version="t", content_hash="h",
                      result=ExtractionResult(fields=fields, kind=kind))


def test_party_names_compare_without_legal_forms_and_punctuation() -> None:
    assert normalise_party("Brightwave Dental Studio, Inc.") == normalise_party("BRIGHTWAVE DENTAL STUDIO INCORPORATED")
    assert normalise_party("Smith & Jones LLP") == normalise_party("Smith and Jones")
    assert normalise_party("Acme Ltd") != normalise_party("Acme Holdings Ltd")


def test_addresses_compare_across_abbreviations_and_differ_by_street_number() -> None:
    assert premises_similarity("88 Harbourfront Road, Halifax, Nova Scotia", "88 Harbourfront Rd., Halifax, NS") == 1.0
    assert premises_similarity("770 Logistics Drive, Atlanta, GA 30303", "770 Logistics Dr, Atlanta, Georgia") == 1.0
    assert premises_similarity("770 Logistics Drive, Atlanta", "771 Logistics Drive, Atlanta") == 0.0


def test_recitals_give_the_referenced_lease_date_own_date_and_old_expiry() -> None:
    facts = text_facts("SECOND AMENDMENT TO LEASE\nThis Second Amendment is made and entered into as of the 29th day "
                       "of December, 2028. A. Landlord and Tenant are parties to that certain lease dated the 25th "
                       "day of August, 2024 (the \"Lease\"). B. The term is currently scheduled to expire on "
                       "September 30, 2029.")
    assert facts.referenced_lease_dates == [date(2024, 8, 25)]
    assert facts.own_dates == [date(2028, 12, 29)]
    assert facts.old_expiration == [date(2029, 9, 30)]
    assert facts.ordinal == 2


def test_successor_landlord_links_on_tenant_and_premises_but_tenant_alone_does_not() -> None:
    lease = _ext("lease", landlord="Sterling Creek Holdings LLC", tenant="Tidewater Marine Parts, Inc.",
                 premises_address="770 Logistics Drive, Atlanta, GA 30303")
    amendment = _ext("amendment", landlord="Bayview Industrial REIT Owner LLC", tenant="Tidewater Marine Parts Inc",
                     premises_address="770 Logistics Drive, Atlanta, Georgia 30303")
    score, parts = match_score(amendment, text_facts(""), lease, None)
    assert _qualifies(parts, score) and parts["landlord"] == 0
    moved = _ext("amendment", landlord="Bayview Industrial REIT Owner LLC", tenant="Tidewater Marine Parts Inc",
                 premises_address="12 Harbor Way, Savannah, GA")
    score, parts = match_score(moved, text_facts(""), lease, None)
    assert not _qualifies(parts, score)


def test_a_different_suite_or_lease_date_in_the_same_building_is_rejected() -> None:
    lease = _ext("lease", landlord="Copper Ridge Investors LP", tenant="Cobalt Precision Machining LLC",
                 premises_address="2170 Quarry Road, Charlotte, North Carolina 28202", suite="518")
    other_suite = _ext("amendment", tenant="Cobalt Precision Machining LLC",
                       premises_address="2170 Quarry Road, Charlotte, NC 28202", suite="200")
    score, parts = match_score(other_suite, text_facts(""), lease, None)
    assert score < LINK_THRESHOLD or not _qualifies(parts, score)
    same_suite = _ext("amendment", tenant="Cobalt Precision Machining LLC",
                      premises_address="2170 Quarry Road, Charlotte, NC 28202", suite="Suite 518")
    lease_facts = text_facts("OFFICE LEASE Date of Lease: 09/29/2023")
    good = match_score(same_suite, text_facts("parties to that certain lease dated 09/29/2023"), lease, lease_facts)
    bad = match_score(same_suite, text_facts("parties to that certain lease dated 01/15/2019"), lease, lease_facts)
    assert good[1]["lease_date"] > 0 > bad[1]["lease_date"] and good[0] > bad[0]


def test_a_lease_dated_in_its_own_opening_is_its_own_date_not_a_reference() -> None:
    from own_docs import HALIFAX_LEASE

    facts = text_facts(HALIFAX_LEASE)
    assert facts.own_dates == [date(2022, 2, 14)] and facts.referenced_lease_dates == []
    lease = _ext("lease", tenant="Brightwave Dental Studio Inc.", premises_address="88 Harbourfront Road, Halifax")
    amendment = _ext("amendment", tenant="BRIGHTWAVE DENTAL STUDIO INCORPORATED",
                     premises_address="88 Harbourfront Rd., Halifax, NS")
    _, parts = match_score(amendment, text_facts("parties to a lease dated 14 February 2022"), lease, facts)
    assert parts["lease_date"] > 0


def test_another_tenant_in_the_same_building_is_not_linked_unless_named_as_assignor() -> None:
    lease = _ext("lease", landlord="Copper Ridge Investors LP", tenant="Cobalt Precision Machining LLC",
                 premises_address="2170 Quarry Road, Charlotte, North Carolina 28202")
    neighbour = _ext("amendment", landlord="Copper Ridge Investors LP", tenant="Juniper Yoga Studio LLC",
                     premises_address="2170 Quarry Road, Charlotte, NC 28202")
    score, parts = match_score(neighbour, text_facts(""), lease, None)
    assert parts["tenant"] < 0 and not _qualifies(parts, score)
    assignment = text_facts("Cobalt Precision Machining LLC (\"Assignor\") has assigned the Lease to Juniper Yoga "
                            "Studio LLC")
    score, parts = match_score(neighbour, assignment, lease, None)
    assert parts["tenant"] == 3.0 and _qualifies(parts, score)
