"""Leases and amendments written for these tests, in styles the devset generator does not use."""

HALIFAX_LEASE = """COMMERCIAL LEASE

This Lease is dated 14 February 2022 and is made between

NORTHGATE PROPERTIES LIMITED, a company incorporated under the laws of Nova Scotia (the "Lessor"),

and

BRIGHTWAVE DENTAL STUDIO INC. (the "Lessee").

1. PREMISES. The Lessor hereby leases to the Lessee Unit 12 at 88 Harbourfront Road, Halifax, Nova Scotia B3J 1A1,
containing 2,400 rentable square feet (the "Premises"), to be used as a dental clinic.

2. TERM. The term of this Lease is three (3) years, beginning on 1 April 2022 and ending on 31 March 2025.

3. RENT. The Lessee shall pay basic rent of C$6,000.00 per month, in advance on the first day of each month.

4. DEPOSIT. On signing, the Lessee shall deposit C$12,000.00 with the Lessor as a security deposit.

5. GOVERNING LAW. This Lease is governed by the laws of the Province of Nova Scotia.

IN WITNESS WHEREOF the parties have signed this Lease.
NORTHGATE PROPERTIES LIMITED            BRIGHTWAVE DENTAL STUDIO INC.
"""

HALIFAX_AMENDMENT = """FIRST AMENDMENT TO COMMERCIAL LEASE

Dated 3 January 2025

BETWEEN: NORTHGATE PROPERTIES LTD. (the "Lessor")
AND: BRIGHTWAVE DENTAL STUDIO INCORPORATED (the "Lessee")

WHEREAS the Lessor and the Lessee are parties to a lease dated 14 February 2022 (the "Lease") of Unit 12,
88 Harbourfront Rd., Halifax, NS B3J 1A1 (the "Premises"), which expires on 31 March 2025;

NOW THEREFORE the parties agree as follows:

1. Extension. The term of the Lease is extended so that it expires on 31 March 2028.

2. Rent. Commencing 1 April 2025 the basic rent shall be C$6,600.00 per month.

3. Ratification. Except as amended by this Amendment, the Lease remains in full force and effect.

NORTHGATE PROPERTIES LTD.            BRIGHTWAVE DENTAL STUDIO INCORPORATED
"""

# Same tenant, different building: an amendment of the Halifax lease must not pick this one.
DARTMOUTH_LEASE = """COMMERCIAL LEASE

This Lease is dated 2 May 2021 and is made between

SEAVIEW HOLDINGS INC. (the "Lessor")

and

BRIGHTWAVE DENTAL STUDIO INC. (the "Lessee").

1. PREMISES. The Lessor hereby leases to the Lessee Suite 3 at 410 Portland Street, Dartmouth, Nova Scotia B2Y 1K1,
containing 1,800 rentable square feet (the "Premises").

2. TERM. The term of this Lease is five (5) years, beginning on 1 June 2021 and ending on 31 May 2026.

3. RENT. The Lessee shall pay basic rent of C$4,100.00 per month, in advance on the first day of each month.

4. GOVERNING LAW. This Lease is governed by the laws of the Province of Nova Scotia.
"""

# A second amendment dated after the first, uploaded before it: its values must win.
HALIFAX_SECOND_AMENDMENT = """SECOND AMENDMENT TO COMMERCIAL LEASE

Dated 10 September 2027

BETWEEN: HARBOURLINE REIT LIMITED, as successor in interest to Northgate Properties Limited (the "Lessor")
AND: BRIGHTWAVE DENTAL STUDIO INC. (the "Lessee")

WHEREAS Northgate Properties Limited and the Lessee are parties to a lease dated 14 February 2022 (the "Lease"),
as amended by a First Amendment dated 3 January 2025, of Unit 12, 88 Harbourfront Road, Halifax, Nova Scotia
B3J 1A1 (the "Premises");

NOW THEREFORE the parties agree as follows:

1. Extension. The term of the Lease is further extended so that it expires on 31 March 2031.

2. Rent. Commencing 1 April 2028 the basic rent shall be C$7,250.00 per month.
"""
