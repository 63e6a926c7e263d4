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


def test_premises_without_street_number_land_and_buildings_at(extract):
    text = ("LEASE of land and buildings at Quarry Road, Leeds LS10 1AB\n"
            "Landlord: Brindle Estates Limited (the Landlord). Tenant: Moss Polymers Limited (the Tenant).\n"
            "The Landlord lets the Premises to the Tenant.")
    r = extract(text)
    assert _v(r, "premises_address") == "Quarry Road, Leeds LS10 1AB"


def test_premises_described_by_a_street_corner(extract):
    text = ("This Lease is made by Ridge Partners (\"Lessor\") and Falcon Circuits, Inc. (\"Lessee\"). Lessor leases to "
            "Lessee a building to be constructed on land situated near the NE corner of Route 9 and Maple Ave. in "
            "Adams County, Colorado.")
    r = extract(text)
    assert _v(r, "premises_address").startswith("NE corner of Route 9 and Maple Ave")


def test_letter_addressee_is_not_the_premises(extract):
    text = ("Lease between Harbor Owner Ltd. (\"Landlord\") and Vela Systems Ltd. (\"Tenant\") of offices in the "
            "Business Park.\nAppendix C - Insurance confirmation\nTo:\nHarbor Owner Ltd.\n12 Mill St., Springfield\n"
            "Re: confirmation of insurance for the property")
    r = extract(text)
    assert _v(r, "premises_address") is None


def test_land_registry_lr9_dash_means_no_renewal_right(extract):
    text = ("Landlord: Calder Bank plc (the Landlord). Tenant: Orbit Trading Limited (the Tenant).\n"
            "LR9.1 Tenant's contractual rights to renew this lease, to acquire the reversion or another lease of the "
            "Property, or to acquire an interest in other land\n-\nLR9.2 Tenant's covenant to (or offer to) surrender "
            "this lease\n-\n")
    r = extract(text)
    assert _v(r, "renewal_option") is False


def test_no_further_right_to_extend_is_not_a_denial_and_amendment_options_are_ignored(extract):
    lease = ("OFFICE LEASE between Tower Associates (\"Landlord\") and Nimbus Labs, Inc. (\"Tenant\"). Landlord hereby "
             "leases to Tenant the Premises for a term of one (1) year. " + "Tenant shall keep the Premises clean. " * 40)
    amendment = ("\nFIRST AMENDMENT TO LEASE\nTenant shall have the option to extend this Lease for one (1) additional "
                 "period of three (3) years at market rent, except there shall be no further right to extend.")
    r = extract(lease + amendment)
    assert _v(r, "renewal_option") is None


def test_renewal_terms_follow_a_cross_reference_and_count_consecutive_terms(extract):
    text = ("Lease between Pine Partners (\"Lessor\") and Rook Devices, Inc. (\"Lessee\"). Lessor hereby leases to Lessee "
            "the building.\n2.3 Extension. Lessee shall have options to extend the term of this Lease for three (3) "
            "consecutive four (4) year terms at an adjusted rental amount as described in Paragraph 4.2 below.\n"
            "4.1 Rent. Lessee shall pay rent monthly.\n"
            "4.2 Extension Rent. The rental rate during each extension term shall be 90% of the fair market rental value.")
    r = extract(text)
    assert _v(r, "renewal_option") is True
    assert _v(r, "renewal_terms") == "3 x 4 years at 90% of fair market rental value"


def test_term_from_last_day_of_the_nth_month(extract):
    text = ("Lease between Quay Street LLC (\"Landlord\") and Osprey Genomics, Inc. (\"Tenant\"). Landlord hereby leases "
            "the Premises to Tenant. The Term shall commence on the Term Commencement Date and shall expire on the last "
            "day of the eighteenth (18th) month following the Term Commencement Date.")
    r = extract(text)
    assert _v(r, "term_months") == 18


def test_terms_of_superior_and_rent_review_leases_are_not_the_term(extract):
    text = ("Underlease between Lomond Bank Ltd (the Landlord) and Arden Capital Limited (the Tenant).\n"
            "Superior Lease means the lease of the Building dated 1 May 1990 for the term of 35 years from 1 May 1990.\n"
            "The rent on review is the rent at which the Premises might be let in the open market by a willing landlord "
            "to a willing tenant for a term of 10 years.\n"
            "The Tenant shall pay yearly, and proportionately for any fraction of a year, the Initial Rent.")
    r = extract(text)
    assert _v(r, "term_months") is None


def test_commencement_through_a_defined_date(extract):
    text = ("This GROUND LEASE, dated as of March 3, 2011 (the \"Effective Date\"), is made between Cedar Funding "
            "Corporation and Birch Foods, Inc. Birch Foods, Inc. does hereby lease to Cedar Funding Corporation the Land. "
            "The term of this Ground Lease will commence on and include the Effective Date and end on the day before "
            "the fiftieth anniversary of the Effective Date.")
    r = extract(text)
    assert _v(r, "commencement_date") == "2011-03-03"


def _flag_types(result):
    return {f.type for f in result.risk_flags}


def test_operating_expense_pass_through_without_cap_is_flagged(extract):
    text = ("Lease between Mill Yard LLC (\"Landlord\") and Tern Labs, Inc. (\"Tenant\"). Landlord hereby leases the "
            "Premises to Tenant. Tenant shall pay Tenant's Proportionate Share of Operating Expenses for each calendar "
            "year as Additional Rent.")
    assert "uncapped_operating_expenses" in _flag_types(extract(text))


def test_capped_pass_through_is_not_flagged(extract):
    text = ("Lease between Mill Yard LLC (\"Landlord\") and Tern Labs, Inc. (\"Tenant\"). Landlord hereby leases the "
            "Premises to Tenant. Tenant shall pay Tenant's Proportionate Share of Operating Expenses, provided that "
            "controllable Operating Expenses shall not increase by more than five percent (5%) per year.")
    assert "uncapped_operating_expenses" not in _flag_types(extract(text))


def test_holdover_percentage_stated_before_the_possession_words(extract):
    text = ("Lease between Mill Yard LLC (\"Landlord\") and Tern Labs, Inc. (\"Tenant\"). Landlord hereby leases the "
            "Premises to Tenant. After such thirty (30) day period, Tenant shall pay Landlord 200% of the rent then "
            "applicable for each day Tenant shall retain possession of the Premises after expiration of this Lease.")
    assert "holdover_penalty" in _flag_types(extract(text))


def test_assignment_and_sublease_in_one_sentence_flags_assignment(extract):
    text = ("Lease between Mill Yard LLC (\"Landlord\") and Tern Labs, Inc. (\"Tenant\"). Landlord hereby leases the "
            "Premises to Tenant. Tenant shall not assign, transfer or sublease this Lease without Landlord's consent, "
            "which may be withheld in Landlord's sole discretion.")
    assert {"assignment_restriction", "sublease_restriction"} <= _flag_types(extract(text))


def test_sublease_only_sole_discretion_does_not_flag_assignment(extract):
    text = ("Lease between Mill Yard LLC (\"Landlord\") and Tern Labs, Inc. (\"Tenant\"). Landlord hereby leases the "
            "Premises to Tenant. Tenant may not sublet the Premises without consent, which Landlord may withhold in its "
            "sole discretion, but no consent is needed to assign to an affiliate.")
    assert "assignment_restriction" not in _flag_types(extract(text))


def test_formula_rent_table_reads_the_monthly_column(extract):
    text = ("Lease between Basin Partners (\"Lessor\") and Gannet Controls, Inc. (\"Lessee\"). Lessor hereby leases the "
            "building to Lessee.\nExhibit C Rent Schedule\nLease Year  Cost  Factor  Annual Rent  Monthly Rent\n"
            "1 $ 2,400,000.00 0.1000 = 240,000.00 20,000.00\n2 $ 2,400,000.00 0.1030 = 247,200.00 20,600.00\n")
    r = extract(text)
    assert _v(r, "base_rent_monthly") == 20000.0


def test_option_conditional_on_a_schedule_that_grants_none_is_false(extract):
    text = ("Lease between Arbel Ltd. (\"Lessor\") and Nova Optics Ltd (\"Lessee\"). The Lessor hereby leases the "
            "property to the Lessee. 4.1 The Lessee may have an option to extend the term of this lease if so provided "
            "in Schedule 2.\nSchedule 2 - Special Conditions: the rent is payable monthly.")
    r = extract(text)
    assert _v(r, "renewal_option") is False

def test_gross_leased_property_is_not_a_gross_lease(extract):
    text = ("Lease between Arbel Ltd. (\"Landlord\") and Nova Optics Ltd (\"Tenant\"). Landlord hereby leases the "
            "property to Tenant. Landlord contributes $350 per square meter of gross Leased Property to the fit-out.")
    r = extract(text)
    assert _v(r, "expense_recovery_type") != "gross"


def test_a_clause_on_modifying_the_lease_is_not_an_appended_amendment(extract):
    lease = ("OFFICE LEASE between Tower Associates (\"Landlord\") and Nimbus Labs, Inc. (\"Tenant\"). Landlord hereby "
             "leases to Tenant the Premises for a term of five (5) years. " + "Tenant shall keep the Premises clean. " * 40)
    tail = ("\nModification of Lease. This Lease may be modified only in writing.\nRider 1. Tenant shall have the "
            "option to extend the Term for one (1) additional period of five (5) years at fair market rent.")
    r = extract(lease + tail)
    assert _v(r, "renewal_option") is True


def test_summary_line_denying_the_option_is_false(extract):
    text = ("BASIC LEASE INFORMATION\nLandlord: Kiln Properties LLC\nTenant: Wren Dental PC\n"
            "Renewal Option: Tenant shall have no option to renew\nLandlord hereby leases the Premises to Tenant.")
    assert _v(extract(text), "renewal_option") is False


def test_option_deleted_by_amendment_is_false(extract):
    text = ("SECOND AMENDMENT TO LEASE between Kiln Properties LLC (\"Landlord\") and Wren Dental PC (\"Tenant\").\n"
            "1. Renewal. Tenant's option to extend the term under the Lease is hereby deleted and is of no further "
            "force or effect.")
    assert _v(extract(text), "renewal_option") is False


def test_renewal_rent_cap_in_words(extract):
    text = ("Residential lease between Ivy Homes LLC (\"Landlord\") and Dana Moss (\"Tenant\"). Landlord hereby leases "
            "the apartment to Tenant. Tenant may renew this agreement for one (1) additional term of twelve (12) months "
            "by notice, at a monthly rent not exceeding one hundred and five percent (105%) of the current rent.")
    r = extract(text)
    assert _v(r, "renewal_terms") == "1 x 12 months at up to 105% of current rent"


def test_assignment_consent_discretion_stated_in_a_later_sentence(extract):
    text = ("Lease Contract between Arbel Ltd. (\"The Landlord\") and Nova Optics Ltd (\"The Tenant\"). The Landlord "
            "hereby leases the property to the Tenant. 18. No Assignment. The Tenant shall not assign its rights "
            "hereunder except with the Landlord's prior written consent. Conditions set by the Landlord shall be met "
            "in advance. The Landlord retains sole discretionary power to grant or withhold its consent.")
    assert "assignment_restriction" in _flag_types(extract(text))


def test_reasonable_assignment_consent_then_sublet_discretion_is_not_an_assignment_flag(extract):
    text = ("Lease between Kiln Properties LLC (\"Landlord\") and Wren Dental PC (\"Tenant\"). Landlord hereby leases "
            "the Premises to Tenant. Tenant may assign this Lease with consent not to be unreasonably withheld. "
            "Any sublet requires consent, and Landlord has sole discretion to withhold it.")
    assert "assignment_restriction" not in _flag_types(extract(text))
