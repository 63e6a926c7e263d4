"""Fixtures for extraction tests: build ParsedDocuments from strings; run the shared scorer over the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from pipeline.extract.rules import RuleExtractor
from pipeline.parse.model import Page, ParsedDocument

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "eval" / "score.py"


def make_doc(*pages: str) -> ParsedDocument:
    """A ParsedDocument whose 1-based pages hold the given texts."""
    return ParsedDocument(pages=[Page(i + 1, t) for i, t in enumerate(pages)], media_type="text/plain")


NARRATIVE = """OFFICE LEASE
THIS LEASE (this "Lease") is made as of the 3rd day of January, 2025 by and between
Granite Ridge Partners, L.P., a Texas limited partnership ("Landlord"), whose address is c/o Summit Asset
Management, 900 Elm Avenue, Suite 1900, Houston, TX 77002, and Bluefin Robotics, Inc., a Delaware
corporation ("Tenant"). The obligations of Tenant are guaranteed by Harold Finch ("Guarantor").
RECITALS
WHEREAS, Tenant occupies space under a lease dated 02/01/2019 (the "Prior Lease") which commenced on
03/01/2019 and expires on 02/28/2025.
1. Premises. Landlord hereby leases to Tenant Suite 310 of the office building located at 1200 Ross Street,
Dallas, Texas 75201, containing approximately 6,000 rentable square feet (the "Premises").
2. Term. The term of this Lease shall be sixty (60) months, commencing on March 1, 2025 (the
"Commencement Date") and ending on the last day of the sixtieth (60th) full calendar month following the
Commencement Date. Tenant may enter the Premises for fit-out commencing February 15, 2025 (the
"Early Possession Date").
3. Base Rent. Tenant shall pay monthly Base Rent of Twenty-Five Thousand and 00/100 Dollars ($25,000.00).
On each anniversary of the Commencement Date, monthly Base Rent shall increase by three percent (3%).
Base Rent shall be abated for the first two (2) full calendar months of the Term.
4. Security Deposit. Tenant shall deposit with Landlord the sum of $50,000.00 as security.
5. Operating Expenses. This Lease is a triple net lease.
6. Notices. Notices to Landlord shall be sent to 77 Harbor Road, Boston, Massachusetts 02110.
7. Holding Over. Any holding over shall be at two hundred percent (200%) of the Base Rent then in effect.
8. Assignment. Tenant may assign this Lease with Landlord's consent, not to be unreasonably withheld.
9. Option to Extend. Tenant shall have one (1) option to extend the Term for five (5) years at the fair
market rent.
10. Governing Law. This Lease shall be governed by the laws of the State of Texas.
"""

BLI = """BASIC LEASE INFORMATION
Landlord: Northgate Retail Owner LLC, a Delaware limited liability company
Tenant: Copperleaf Coffee Company
Guarantor: Evelyn Stone
Premises: Unit B-12 of the shopping center located at 45 Commerce Parkway, Nashville, Tennessee 37203,
containing approximately 2,400 rentable square feet
Term: thirty-six (36) months
Commencement Date: 05/01/2026
Expiration Date: 04/30/2029
Base Rent: See schedule below (per rentable square foot per annum).
Security Deposit: None
Renewal Option: None
Period Annual Rate per Rentable Square Foot
05/01/2026 - 04/30/2027 $30.00
05/01/2027 - 04/30/2028 $31.00
05/01/2028 - 04/30/2029 $32.00
The Premises shall be used solely for the operation of a coffee shop and for no other purpose whatsoever.
This Lease shall be governed by the laws of the State in which the Premises are located.
"""

UK = """LEASE
THIS LEASE is dated 1 April 2024 and is made BETWEEN:
(1) THAMESIDE ESTATES LIMITED (Company Registration No. 01234567) whose registered office is at 1 King
Street, London EC2V 8AU (the "Landlord"); and
(2) PEBBLE ANALYTICS LTD (Company Registration No. 07654321) whose registered office is at 4 Mill Lane,
Leeds LS1 4AB (the "Tenant").
1. The Landlord lets to the Tenant the second floor of the building known as 22 Carter Lane, London EC4V 5AD
(the "Premises") for a term of ten (10) years from and including 25 March 2024 (the "Term").
2. The Tenant shall pay the Annual Rent of £120,000 per annum by equal quarterly instalments.
3. The Tenant shall pay the Service Charge.
4. This Lease shall be governed by and construed in accordance with the law of England and Wales.
"""

CANADA = """COMMERCIAL LEASE
This Lease is made between Maple Court Holdings Inc., an Ontario corporation ("Landlord") and
Northwind Outfitters Ltd. ("Tenant").
Landlord leases to Tenant Unit 4 at 88 Queen Street, Toronto, Ontario M5H 2N2, containing 1,800 square feet,
for a term of two (2) years commencing on 1 June 2025 and expiring on 31 May 2027.
Tenant shall pay Base Rent of $6,000.00 per month. All amounts are payable in lawful money of Canada.
This Lease shall be governed by the laws of the Province of Ontario.
"""

NOT_A_LEASE = """MEETING MINUTES
The committee met on March 3, 2025 to discuss the budget for the annual picnic. Attendance was good.
Refreshments cost $120.00. The next meeting is scheduled for April 7, 2025.
"""



@pytest.fixture
def leases() -> dict[str, str]:
    """Leases written for these tests in different drafting styles, plus a non-lease."""
    return {"narrative": NARRATIVE, "bli": BLI, "uk": UK, "canada": CANADA, "not_a_lease": NOT_A_LEASE}


@pytest.fixture(name="make_doc")
def make_doc_fixture():
    return make_doc


@pytest.fixture
def extractor() -> RuleExtractor:
    return RuleExtractor()


@pytest.fixture
def extract(extractor):
    def run(*pages: str):
        return extractor.extract(make_doc(*pages))
    return run


@pytest.fixture
def score_cli(tmp_path: Path) -> Callable[[Path, Path], dict[str, Any]]:
    """Run the shared scorer with `atlas extract {file} --json` over (truth, docs_root); returns the report summary."""
    def run(truth: Path, docs_root: Path) -> dict[str, Any]:
        if not truth.exists() or not SCORER.exists():
            pytest.skip(f"shared truth ({truth}) or scorer ({SCORER}) not available")
        report = tmp_path / "report.json"
        cmd = f"{Path(sys.executable).with_name('atlas')} extract {{file}} --json"
        subprocess.run([sys.executable, str(SCORER), "--truth", str(truth), "--docs-root", str(docs_root),
                        "--cmd", cmd, "--json", str(report), "--timeout", "60"],
                       cwd=ROOT, check=True, capture_output=True, timeout=240)
        return json.loads(report.read_text())["summary"]
    return run
