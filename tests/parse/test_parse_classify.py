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
