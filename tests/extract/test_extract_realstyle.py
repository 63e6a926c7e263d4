"""Generic rules for real-world drafting: floors, unit-rate and peppercorn rents, premises area, renewals, addresses."""
from __future__ import annotations

from pipeline.extract.premises import floor_label


def _v(result, name):
    return result.fields[name].value


def test_floor_label_normalises_ordinals():
    assert floor_label("third floor") == "3rd floor"
    assert floor_label("parts of the twelfth floor") == "part 12th floor"
    assert floor_label("22nd floor") == "22nd floor"
    assert floor_label("ground floor") == "ground floor"


def test_floor_named_most_often_in_the_body_beats_the_summary(extract):
    text = ("LEASE SUMMARY\nPremises: a portion of the ninth floor of the Building.\n"
            "This Lease is made between Harbour Owner LLC (\"Landlord\") and Kestrel Analytics Inc. (\"Tenant\").\n"
            "1. Premises. Landlord leases to Tenant space on the 8th floor of the Building (the \"Premises\").\n"
            "Exhibit A shows the Premises on the 8th floor. In case of conflict the body of this Lease controls.")
    r = extract(text)
    assert _v(r, "suite") == "8th floor"


def test_per_square_metre_monthly_rate_is_multiplied_by_the_area(extract):
    text = ("Lease between Orchard Estates Ltd (\"Landlord\") and Lumen Devices Ltd (\"Tenant\").\n"
            "Leased Area: the premises of approximately 500 sqm gross on the second floor.\n"
            "Monthly rent: the monthly rent shall be $12.00 per 1 sqm of the premises, plus VAT.")
    r = extract(text)
    assert abs(_v(r, "base_rent_monthly") - 6000.0) < 1.0


def test_peppercorn_rent_is_zero(extract):
    text = ("THIS LEASE is made between Fenwick Holdings Limited (the Landlord) and Tarn Chemicals Limited (the Tenant).\n"
            "The Landlord lets the Premises to the Tenant for a term of 125 years.\n"
            "\"Rent\" means a peppercorn per annum (if demanded).")
    r = extract(text)
    assert _v(r, "base_rent_monthly") == 0
    assert r.fields["base_rent_monthly"].citations[0].quote.lower().find("peppercorn") >= 0


def test_area_prefers_the_premises_definition_over_another_defined_space(extract):
    text = ("Recitals. The parties intend to negotiate a lease of approximately 45,000 rentable square feet in the "
            "Building (the \"Future Space\").\n"
            "Landlord: Wexley Properties LLC (\"Landlord\"). Tenant: Corvid Bio, Inc. (\"Tenant\").\n"
            "Premises Rentable Area: approximately 7,500 rentable square feet.")
    r = extract(text)
    assert _v(r, "leased_area_sqft") == 7500


def test_garbled_decimal_area_is_not_read_as_square_feet(extract):
    text = ("Ground lease between Pine Land Co. (\"Landlord\") and Delta Funding Corp. (\"Tenant\") of the land "
            "containing 4.10 acres (178.596 square feet), more or less.")
    r = extract(text)
    assert _v(r, "leased_area_sqft") is None
