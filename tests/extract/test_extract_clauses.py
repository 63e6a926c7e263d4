"""The clause finder locates topics by headings and labels; values inside those clauses need no cue words."""
from __future__ import annotations

from pipeline.extract import clauses
from pipeline.extract.doctext import DocText
from tests.extract.conftest import make_doc

FORM = """RESIDENTIAL LEASE
This lease is made between Orchard Homes LLC ("Lessor") and Dana Whitfield ("Lessee").

ARTICLE 1
PREMISES

Lessor leases to Lessee the premises located at 52 Willow Lane, Boise, Idaho 83702.

ARTICLE 2
RENT

2.1 Amount. Lessee shall pay installments of $1,850.00 each month, due on the first day of the month.
2.2 Late Charge. A late charge of $75.00 applies after the fifth day.

ARTICLE 3
SECURITY DEPOSIT

On signing, Lessee paid the sum of $1,850.00, which Lessor holds against damage.

ARTICLE 4
NOTICES AND PAYMENTS

Notices go to the addresses above.
"""

SUMMARY = """BASIC LEASE INFORMATION
Landlord: Kestrel Tower LLC
Tenant: Plover Data Inc.
Security Deposit: None
Monthly Base Rent:
$9,400.00
"""


def test_sections_by_heading_run_over_their_subsections():
    dt = DocText(make_doc(FORM))
    rent = clauses.sections(dt, "rent")
    assert [c.title for c in rent][:1] == ["ARTICLE 2 RENT"]
    assert "Late Charge" in dt.text[rent[0].start:rent[0].end]  # 2.2 sits inside ARTICLE 2
    assert "SECURITY DEPOSIT" not in dt.text[rent[0].start:rent[0].end]
    assert all("NOTICES" not in c.title for c in rent)
    assert [c.title for c in clauses.sections(dt, "deposit")] == ["ARTICLE 3 SECURITY DEPOSIT"]


def test_labels_read_same_line_and_next_line_values():
    dt = DocText(make_doc(SUMMARY))
    deposit = clauses.labels(dt, "deposit")
    rent = clauses.labels(dt, "rent")
    assert dt.text[deposit[0].start:deposit[0].end] == "None"
    assert dt.text[rent[0].start:rent[0].end] == "$9,400.00"


def test_values_found_through_their_clause(extract):
    r = extract(FORM)
    assert r.fields["base_rent_monthly"].value == 1850.0
    assert r.fields["security_deposit"].value == 1850.0
    assert r.fields["premises_address"].value.startswith("52 Willow Lane, Boise")
    s = extract(SUMMARY)
    assert s.fields["security_deposit"].value == 0
    assert s.fields["base_rent_monthly"].value == 9400.0


def _lease(body: str) -> str:
    return ('LEASE AGREEMENT\nThis lease is made between Heron Yard LLC ("Landlord") and Teal Supply Inc. ("Tenant"). '
            "Landlord hereby leases the premises to Tenant. " + body)


def test_expense_type_from_who_bears_which_costs(extract):
    nnn = _lease("Tenant shall pay its proportionate share of all real estate taxes. Tenant shall reimburse Landlord "
                 "for Landlord's insurance premiums. Tenant shall pay its share of operating expenses.")
    net = _lease("Tenant shall pay all real estate taxes on the property. Landlord insures the building.")
    gross = _lease("This Lease shall be gross in nature. Tenant shall pay any sales taxes levied on rent.")
    own = _lease("Tenant shall pay all personal property taxes on its trade fixtures.")
    assert extract(nnn).fields["expense_recovery_type"].value == "nnn"
    assert extract(net).fields["expense_recovery_type"].value == "net"
    assert extract(gross).fields["expense_recovery_type"].value == "gross"
    assert extract(own).fields["expense_recovery_type"].value is None
    cites = extract(nnn).fields["expense_recovery_type"].citations
    assert len(cites) == 3  # each cost family the tenant bears is cited


def test_parties_defined_without_parentheses(extract):
    text = ('LEASE AGREEMENT\nThis lease is entered into between Nora Vance, an individual, referred to as "lessor," and '
            'Quill Fabrication, Inc., a corporation, referred to as "lessee." Lessor leases to lessee the premises.')
    r = extract(text)
    assert r.fields["landlord"].value == "Nora Vance"
    assert r.fields["tenant"].value == "Quill Fabrication, Inc."


def test_bare_street_takes_city_and_state_from_its_sentence(extract):
    text = ('SUBLEASE\nThis sublease is made between Gull Labs, Inc. ("Sublandlord") and Wren Bio, Inc. ("Subtenant"). '
            "Sublandlord subleases to Subtenant those premises situated in the City and County of Denver, State of "
            "Colorado, of approximately 3,200 square feet in the building located at 88 Larimer Avenue, as shown on "
            "Exhibit A (the \"Premises\").")
    r = extract(text)
    assert r.fields["premises_address"].value == "88 Larimer Avenue, Denver, Colorado"
    quotes = " ".join(c.quote for c in r.fields["premises_address"].citations)
    assert "88 Larimer Avenue" in quotes and "Denver" in quotes and "State of Colorado" in quotes


def test_no_term_from_a_month_to_month_tenancy(extract):
    r = extract(_lease("Holding over creates a month-to-month tenancy only."))
    assert r.fields["term_months"].value is None


def test_asset_type_from_title_then_permitted_use_clause(extract):
    titled = ("MEDICAL OFFICE LEASE\nThis lease is made between Heron Yard LLC (\"Landlord\") and Teal Clinic PC "
              "(\"Tenant\"). Landlord hereby leases the premises to Tenant. The building is a mixed-use complex.")
    use = _lease("The development includes a ground lease parcel.\n\nARTICLE 6\nUSE\n\nTenant shall use the Premises "
                 "for general office purposes and for no other purpose.")
    assert extract(titled).fields["asset_type"].value == "medical"
    assert extract(use).fields["asset_type"].value == "office"


def test_implausible_monthly_rent_is_not_produced(extract):
    rate_as_rent = _lease("Annual Base Rent: $30.00 per annum, payable monthly in advance.")
    assert extract(rate_as_rent).fields["base_rent_monthly"].value is None
    assert not extract(rate_as_rent).rent_schedule
    real = _lease("Annual Base Rent: $30,000.00 per annum, payable monthly in advance.")
    assert extract(real).fields["base_rent_monthly"].value == 2500.0
