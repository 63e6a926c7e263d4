"""The cheap lease / not-a-lease signal."""
from __future__ import annotations

from pipeline.parse import classify_lease
from pipeline.parse.model import Page, ParsedDocument


def _doc(text: str) -> ParsedDocument:
    return ParsedDocument(pages=[Page(1, text)], media_type="text/plain")


LEASE = ("This Lease is made between Landlord and Tenant. Landlord leases the Premises to Tenant for a Term of "
         "five years commencing on the Commencement Date. Tenant shall pay Base Rent monthly and a Security "
         "Deposit. Tenant may sublease with Landlord's consent. Operating Expenses are shared. ") * 5
NDA = ("This Mutual Nondisclosure Agreement is made between the Disclosing Party and the Receiving Party. "
       "Confidential Information includes the rent roll and the lease files of the property. The Receiving "
       "Party shall protect Confidential Information for a term of two years. ") * 5
SALE = ("Seller agrees to sell and Purchaser agrees to buy the Property, subject to the existing leases. "
        "Seller shall deliver estoppels from each tenant. Purchaser shall deposit the earnest money in escrow. ") * 5


def test_lease_scores_high():
    is_lease, score = classify_lease(_doc(LEASE))
    assert is_lease and score > 0.8


def test_other_contracts_mentioning_leases_score_low():
    for text in (NDA, SALE, "Minutes of the board meeting. The weather was fine. " * 20):
        is_lease, score = classify_lease(_doc(text))
        assert not is_lease and score < 0.5, text[:40]


# --- one classifier for the warning and the extraction (short documents written for these tests) ---

from pipeline.extract.rules import RuleExtractor  # noqa: E402
from pipeline.parse.classify import classify_document  # noqa: E402

PURCHASE_WITH_LEASEBACK = """PURCHASE AND SALE AGREEMENT
THIS PURCHASE AND SALE AGREEMENT is made as of May 2, 2024 between Alder Holdings LLC ("Seller") and
Northgate Capital Inc. ("Purchaser"). Seller agrees to sell and Purchaser agrees to buy the Property for a
purchase price of $4,056,675.00, payable at closing through escrow. At closing Seller shall lease back the
Property under the Lease attached as Exhibit C.
EXHIBIT C - FORM OF LEASE
LEASE AGREEMENT. Landlord hereby leases to Tenant the Premises containing 18,000 rentable square feet.
Tenant shall pay Base Rent of $15.00 per rentable square foot per annum. The Term shall be ten (10) years.
Landlord and Tenant agree that Tenant shall pay the Security Deposit and Operating Expenses."""
RESOLUTION = """RESOLUTION TO APPROVE THE LEASE OF CROWN LAND AT LOT 7, HILLSIDE ESTATE
WHEREAS the Crown is the owner of the land; AND WHEREAS the Minister proposes to lease the land to the Harbour
Youth Trust for a term of twenty-five years at an annual rent of $1,000.00;
BE IT RESOLVED that the House approves the lease of the land to the Trust on the terms in the Schedule."""
GUARANTY = """GUARANTY OF LEASE
FOR VALUE RECEIVED, Maple Street Foods Inc. ("Guarantor") guarantees to Westbrook Realty LLC ("Landlord") the
payment of all rent under the lease dated March 1, 2023 between Landlord and Maple Street Cafe LLC ("Tenant")
for the premises at 12 Harbor Road, Salem, Massachusetts 01970, including monthly Base Rent of $6,500.00.
Guarantor waives notice of default. This Guaranty is governed by the laws of the Commonwealth of Massachusetts."""
SUBLEASE = """SUBLEASE AGREEMENT
THIS SUBLEASE is made as of June 1, 2024 between Larch Analytics, Inc. ("Sublandlord") and Fennel Labs LLC
("Subtenant"). Sublandlord hereby subleases to Subtenant the premises at 400 Pine Street, Suite 210, Denver,
Colorado 80202 (the "Premises") for a term of thirty-six (36) months. Subtenant shall pay monthly rent of
$9,000.00. Subtenant shall pay a security deposit of $18,000.00."""
AMENDMENT_LETTER = """Kestrel Properties LP
RE: Lease dated April 3, 2015
Gentlemen:
This letter agreement amends the Lease between Kestrel Properties LP ("Landlord") and Osprey Tools LLC
("Tenant") as follows: 1. The term of the Lease is extended through June 30, 2027. 2. Monthly rent from
July 1, 2024 shall be $12,000.00 per month."""


def test_lease_adjacent_documents_get_one_classification_everywhere():
    """The parse warning, the extractor's kind and the fields agree; non-leases get no invented terms."""
    expected = {PURCHASE_WITH_LEASEBACK: "not_a_lease", RESOLUTION: "not_a_lease", GUARANTY: "not_a_lease",
                SUBLEASE: "lease", AMENDMENT_LETTER: "amendment"}
    for text, kind in expected.items():
        doc = _doc(text)
        verdict = classify_document(doc)
        is_lease, _score = classify_lease(doc)
        result = RuleExtractor().extract(doc)
        assert verdict.kind == kind, (text[:40], verdict)
        assert result.kind == kind, text[:40]
        assert is_lease == (kind != "not_a_lease"), text[:40]
        if kind == "not_a_lease":
            assert all(f.value is None for f in result.fields.values()), text[:40]
            assert not result.rent_schedule and not result.risk_flags
            assert any(w.code == "not_a_lease" for w in result.warnings)


def test_parse_records_the_same_kind():
    from pipeline.parse import parse_document

    doc = parse_document(GUARANTY.encode())
    assert doc.metadata["kind"] == "not_a_lease" and doc.metadata["is_lease"] is False
    assert doc.metadata["kind"] == RuleExtractor().extract(doc).kind


def test_title_outranks_lease_vocabulary():
    """A lease guaranty is full of lease words; its title still decides."""
    assert classify_document(_doc("LEASE GUARANTY\n" + LEASE)).kind == "not_a_lease"
    assert classify_document(_doc("FIRST AMENDMENT TO OFFICE LEASE\n" + LEASE)).kind == "amendment"
    assert classify_document(_doc("EXHIBIT 10.4\nSUBLEASE AGREEMENT\n" + LEASE)).kind == "lease"


def test_filled_in_forms_are_leases():
    """Residential and government forms: labels, blanks and ticked boxes instead of prose, still leases."""
    residential = ("RESIDENTIAL LEASE AGREEMENT\nLandlord: ___Mary Quinn_______ Tenant: ___Omar Haddad____\n"
                   "Property address: __18 Birch Court, Apt 2, Tulsa, OK 74103__\nMonthly rent: $__1,150.00__ "
                   "due on the __1st__ day of each month. Security deposit: $__1,150.00__\n[X] Unfurnished  [ ] Furnished\n"
                   "Lease term: from __06/01/2024__ to __05/31/2025__\nSignature of Landlord ________ Tenant ________")
    government = ("U.S. GOVERNMENT LEASE FOR REAL PROPERTY\nLease No. ____GS-07B-1234____\nThis Lease is made and entered "
                  "into between ___Pine Ridge Holdings LLC___ (Lessor) and the United States of America (Government).\n"
                  "The Lessor hereby leases to the Government the premises described below for a term of __10__ years.")
    for text in (residential, government):
        assert classify_document(_doc(text)).kind == "lease", text[:40]
        assert RuleExtractor().extract(_doc(text)).kind == "lease"
