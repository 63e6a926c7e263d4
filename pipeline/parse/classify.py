"""Lease vs not-a-lease: a keyword signal cheap enough to run on every document."""
from __future__ import annotations

import math
import re

from pipeline.parse.model import ParsedDocument

# Weighted lease vocabulary; strong terms almost only appear in leases.
_TERMS: dict[str, float] = {
    r"\blease[sd]?\b": 3.0, r"\bleasehold\b": 2.0, r"\blandlord'?s?\b": 3.0, r"\btenant'?s?\b": 3.0,
    r"\blessor\b": 3.0, r"\blessee\b": 3.0, r"\bpremises\b": 2.5, r"\brent(al|s)?\b": 2.0,
    r"\bsecurity deposit\b": 2.0, r"\bterm\b": 1.0, r"\bcommencement date\b": 2.0, r"\bexpiration date\b": 1.5,
    r"\bsquare feet\b|\bsq\.? ?ft\b|\brentable\b": 1.5, r"\bsublet|sublease|assignment\b": 1.0,
    r"\boperating expenses\b|\bcommon area\b|\bcam\b": 1.0, r"\brenewal option\b|\boption to (renew|extend)\b": 1.5,
    r"\bbail\b|\bpreneur\b|\bbailleur\b|\bmieter\b|\bvermieter\b|\barrendatario\b": 2.0,
}
_PATTERNS = [(re.compile(p, re.IGNORECASE), w) for p, w in _TERMS.items()]
_PARTIES = re.compile(r"\b(landlord|tenant|lessor|lessee|sublandlord|subtenant)s?\b", re.IGNORECASE)
# Vocabulary of documents that mention leases without being one (sales, NDAs, loans, employment).
_OTHER = re.compile(r"\b(purchaser|buyer|seller|vendor|escrow|disclosing party|receiving party|confidential "
                    r"information|non-?disclosure|borrower|lender|employer|employee|licensor|licensee)s?\b",
                    re.IGNORECASE)
_SAMPLE_CHARS = 100_000
_THRESHOLD = 0.5


def lease_score(text: str) -> float:
    """0..1: how strongly the text reads like a lease (weighted keyword density with diversity)."""
    sample = text[:_SAMPLE_CHARS]
    words = max(1, len(sample.split()))
    hits = [(len(p.findall(sample)), w) for p, w in _PATTERNS]
    distinct = sum(w for n, w in hits if n)
    density = sum(min(n, 50) * w for n, w in hits) / words * 100
    # Needs both several different lease terms and a reasonable density of them.
    raw = 0.6 * min(1.0, distinct / 14.0) + 0.4 * min(1.0, density / 8.0)
    # Another kind of contract whose own parties outnumber landlords and tenants is not a lease.
    parties, others = len(_PARTIES.findall(sample)), len(_OTHER.findall(sample))
    raw -= 0.6 * min(1.0, others / max(1, parties) / 2)
    return round(1 / (1 + math.exp(-10 * (raw - 0.45))), 3)


def classify_lease(doc: ParsedDocument) -> tuple[bool, float]:
    """(is_lease, score in 0..1) for a parsed document."""
    score = lease_score(doc.text)
    return score >= _THRESHOLD, score
