"""The rule extractor on leases written for these tests in several drafting styles."""
from __future__ import annotations

import pytest

from pipeline.domain.model import FIELD_NAMES, FieldStatus

from pipeline.extract.rules import RuleExtractor

def _v(result, name):
    return result.fields[name].value


def test_narrative_lease(extract, leases):
    r = extract(leases["narrative"])
    assert r.kind == "lease"
    assert _v(r, "landlord") == "Granite Ridge Partners, L.P."
    assert _v(r, "tenant") == "Bluefin Robotics, Inc."
    assert _v(r, "premises_address") == "1200 Ross Street, Dallas, Texas 75201"
    assert _v(r, "suite") == "310"
    assert _v(r, "leased_area_sqft") == 6000
    assert _v(r, "commencement_date") == "2025-03-01"
    assert _v(r, "expiration_date") == "2030-02-28"  # computed from the 60th full calendar month
    assert _v(r, "term_months") == 60
    assert _v(r, "base_rent_monthly") == 25000.0
    assert _v(r, "currency") == "USD"
    assert _v(r, "security_deposit") == 50000.0
    assert _v(r, "free_rent_months") == 2
    assert _v(r, "renewal_option") is True
    assert _v(r, "renewal_terms") == "1 x 5 years at fair market rent"
    assert _v(r, "governing_law") == "Texas"
    assert _v(r, "expense_recovery_type") == "nnn"
    assert [p.monthly_rent for p in r.rent_schedule][:3] == [25000.0, 25750.0, 26522.5]
    types = {f.type for f in r.risk_flags}
    assert "holdover_penalty" in types
    assert "assignment_restriction" not in types  # consent not to be unreasonably withheld is benign


def test_distractors_rejected(extract, leases):
    r = extract(leases["narrative"])
    assert "Finch" not in _v(r, "tenant")
    assert _v(r, "commencement_date") not in ("2019-03-01", "2025-02-15")
    assert "Boston" not in _v(r, "premises_address") and "Houston" not in _v(r, "premises_address")
    assert _v(r, "suite") != "1900"


def test_bli_table_lease(extract, leases):
    r = extract(leases["bli"])
    assert _v(r, "landlord") == "Northgate Retail Owner LLC"
    assert _v(r, "tenant") == "Copperleaf Coffee Company"
    assert _v(r, "suite") == "B-12"
    assert _v(r, "base_rent_monthly") == 6000.0  # $30.00 x 2,400 / 12
    assert [p.monthly_rent for p in r.rent_schedule] == [6000.0, 6200.0, 6400.0]
    assert r.rent_schedule[0].annual_psf == 30.0
    assert _v(r, "security_deposit") == 0
    assert _v(r, "renewal_option") is False
    assert _v(r, "governing_law") == "Tennessee"
    assert _v(r, "asset_type") == "retail"
    assert {f.type for f in r.risk_flags} == {"restrictive_use"}


def test_uk_lease_with_pounds(extract, leases):
    r = extract(leases["uk"])
    assert _v(r, "landlord") == "THAMESIDE ESTATES LIMITED"
    assert _v(r, "tenant") == "PEBBLE ANALYTICS LTD"
    assert _v(r, "currency") == "GBP"
    assert _v(r, "base_rent_monthly") == 10000.0
    assert _v(r, "commencement_date") == "2024-03-25"
    assert _v(r, "term_months") == 120
    assert _v(r, "governing_law") == "England and Wales"


def test_canadian_lease(extract, leases):
    r = extract(leases["canada"])
    assert _v(r, "currency") == "CAD"
    assert _v(r, "landlord") == "Maple Court Holdings Inc."
    assert _v(r, "governing_law") == "Ontario"
    assert _v(r, "expiration_date") == "2027-05-31"
    assert _v(r, "base_rent_monthly") == 6000.0
    assert _v(r, "term_months") == 24


def test_document_without_lease_terms_is_all_not_found(extract, leases):
    r = extract(leases["not_a_lease"])
    for name in FIELD_NAMES:
        fv = r.fields[name]
        assert fv.status == FieldStatus.NOT_FOUND and fv.value is None and fv.confidence < 0.2, name
    assert r.risk_flags == [] and r.rent_schedule == []


def test_rent_mismatch_warning_cites_both_figures(extract, leases):
    text = leases["narrative"].replace("3. Base Rent.", "3. Base Rent. Annual Base Rent shall be $290,000.00 per annum.")
    r = extract(text)
    warnings = [w for w in r.warnings if w.code == "rent_mismatch"]
    assert warnings, r.warnings
    quotes = {c.quote for c in warnings[0].citations}
    assert any("25,000.00" in q for q in quotes) and any("290,000.00" in q for q in quotes)


@pytest.mark.parametrize("style", ["narrative", "bli", "uk", "canada"])
def test_every_citation_is_exact_page_text(extract, leases, style):
    text = leases[style]
    page2 = "Page two.\nLandlord may terminate this Lease upon thirty (30) days' notice if Landlord sells the property."
    r = extract(text, page2)
    cites = [c for f in r.fields.values() for c in f.citations]
    cites += [c for f in r.risk_flags for c in f.citations] + [c for p in r.rent_schedule for c in p.citations]
    assert cites
    pages = [text, page2]
    for c in cites:
        assert pages[c.page - 1][c.start:c.end] == c.quote
        assert len(c.quote) <= 200
    assert any(f.type == "landlord_termination_right" and f.citations[0].page == 2 for f in r.risk_flags)


def test_low_confidence_fields_need_review(leases, make_doc):
    r = RuleExtractor(review_threshold=0.999).extract(make_doc(leases["narrative"]))
    assert all(f.status != FieldStatus.FOUND for f in r.fields.values())
    assert r.fields["landlord"].status == FieldStatus.NEEDS_REVIEW
