"""Domain extraction → the legacy shapes the web app dereferences."""
from __future__ import annotations

from pipeline.domain.model import (Citation, Extraction, ExtractionResult, FieldStatus, FieldValue, RentPeriod,
                                   RiskFlag)
from pipeline.legacy import mapping


def _fv(value, page=1, quote="q", conf=0.9, bbox=None):  # type: ignore[no-untyped-def]
    return FieldValue(value=value, raw=str(value), confidence=conf, status=FieldStatus.FOUND,
                      citations=[Citation(page=page, start=0, end=len(quote), quote=quote, bbox=bbox)])


def _extraction() -> Extraction:
    result = ExtractionResult(fields={
        "landlord": _fv("Red Rock LLC", quote="Red Rock LLC", bbox=(10.0, 20.0, 110.0, 32.0)),
        "tenant": _fv("Quarry Co."), "premises_address": _fv("4570 Lakeshore Blvd"), "suite": _fv(None),
        "leased_area_sqft": _fv(13476), "commencement_date": _fv("2024-10-01"),
        "expiration_date": _fv("2029-09-30"), "term_months": _fv(60), "base_rent_monthly": _fv(60642.0),
        "security_deposit": _fv(121284.0), "renewal_option": _fv(True), "renewal_terms": _fv("1 x 5 years"),
        "expense_recovery_type": _fv("nnn"), "free_rent_months": _fv(3), "asset_type": _fv("medical", conf=0.7),
    }, rent_schedule=[RentPeriod("2024-10-01", "2025-09-30", 60642.0), RentPeriod("2025-10-01", "2026-03-31", 62000.0)],
        risk_flags=[RiskFlag("holdover_penalty", "high", "150% holdover", 0.8, [Citation(4, 0, 5, "150%")]),
                    RiskFlag("something_new")])
    return Extraction(id="e", document_id="d", org_id="o", version=2, result=result, extractor_version="r1",
                      content_hash="h")


def test_lease_summary_has_every_section_with_exact_names_and_types() -> None:
    s = mapping.lease_summary(_extraction().result)
    assert s["property_info"] == {"property_address": "4570 Lakeshore Blvd", "landlord_name": "Red Rock LLC"}
    assert s["tenant_info"] == {"tenant": "Quarry Co.", "suite_number": "N/A", "leased_sqft": 13476.0}
    assert s["lease_dates"] == {"lease_commencement_date": "2024-10-01", "lease_expiration_date": "2029-09-30",
                                "lease_term": "5 years"}
    ft = s["financial_terms"]
    assert ft["base_rent"] == 60642.0 and ft["security_deposit"] == 121284.0
    assert ft["expense_recovery_type"] == "Net" and ft["renewal_options"] == "1 x 5 years"
    assert ft["free_rent_months"] == 3
    sched = ft["rent_escalations"]["rent_schedule"]
    assert sched[0]["duration"] == {"years": 1, "months": 0, "days": 0}
    assert sched[1]["duration"] == {"years": 0, "months": 6, "days": 0}
    assert sched[1]["amount"] == 62000.0 and sched[1]["start_date"] == "2025-10-01"


def test_missing_fields_map_to_empty_strings_and_nulls() -> None:
    s = mapping.lease_summary(ExtractionResult())
    assert s["property_info"]["landlord_name"] == "" and s["tenant_info"]["leased_sqft"] is None
    assert s["lease_dates"]["lease_term"] == "" and s["financial_terms"]["rent_escalations"] is None


def test_citations_become_field_metadata_with_page_and_matching_text() -> None:
    src = mapping.source_data(_extraction())
    cite = src["field_metadata"]["property_info"]["landlord_name"]["citation"][0]
    assert cite == {"page": 1, "matching_text": "Red Rock LLC",
                    "position": {"x": 10.0, "y": 20.0, "width": 100.0, "height": 12.0}}
    assert isinstance(src["field_metadata"]["lease_dates"]["lease_term"]["reasoning"], str)


def test_risk_flags_have_string_categories_and_known_titles() -> None:
    flags = [mapping.legacy_flag(f) for f in _extraction().result.risk_flags]
    assert flags[0]["title"] == "Holdover Penalties" and flags[0]["category"] == "Lease Term & Renewal"
    assert flags[0]["page"] == 4 and flags[0]["description"] == "150% holdover"
    assert all(isinstance(f["category"], str) and f["title"] and f["description"] for f in flags)
    assert flags[1]["category"] == "Miscellaneous"


def test_asset_type_maps_into_the_legacy_list() -> None:
    assert mapping.legacy_asset_type(_extraction().result) == ("healthcare", 0.7)
    assert mapping.legacy_asset_type(ExtractionResult())[0] == "other"
    assert mapping.lease_term_words(18) == "1 year 6 months"
