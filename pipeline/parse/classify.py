"""The one document classifier: lease (subleases included) / amendment / not_a_lease.

Both the parse warning and the extractor's `kind` come from `classify_document`, so they cannot disagree.
The decision reads the document's title first (the heading lines before the body starts), then the body:
a grant of a leasehold, an amendment of an existing lease, or another contract's vocabulary.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

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
                    r"information|non-?disclosure|borrower|lender|employer|employee|licensor|licensee|guarantor|"
                    r"resolved|whereas the (?:government|crown|council|board))s?\b", re.IGNORECASE)
_SAMPLE_CHARS = 100_000
_THRESHOLD = 0.5

# Title vocabulary. An amendment title names the lease it changes; another contract's title names its own kind
# first even when a lease is its subject ('Guaranty of Lease', 'Resolution re Lease', 'Purchase Agreement').
_AMENDMENT_TITLE = re.compile(
    r"\b(?:amendment|modification|extension\s+agreement|extension|supplement|renewal|addendum)\s+(?:no\.?\s*\d+\s+)?"
    r"(?:to|of)\s+(?:the\s+)?(?:\w+\s+){0,3}?(?:lease|sublease|tenancy)\b|\blease\s+(?:amendment|modification|extension)\b|"
    r"\bamendment\s+(?:no\.?\s*\d+|#\s*\d+)", re.I)
_OTHER_TITLE = re.compile(
    r"\b(?:purchase|sale|non-?disclosure|confidentiality|licen[cs]e\s+agreement|employment|letter\s+of\s+intent|"
    r"term\s+sheet|loan|promissory|mortgage|deed\s+of\s+trust|option\s+to\s+purchase|services?\s+agreement|"
    r"consulting|indemnity\s+agreement|credit\s+agreement|security\s+agreement|bill\s+of\s+sale)\b", re.I)
# Documents about a lease wherever the word sits in the title ('Lease Guaranty', 'Lease Estoppel Certificate').
_ABOUT_LEASE_TITLE = re.compile(r"\b(?:guarant(?:y|ee|or)|resolution|estoppel|subordination|non-?disturbance|"
                                r"memorandum\s+of\s+(?:sub)?lease)\b", re.I)
_LEASE_TITLE = re.compile(
    r"\b(?:(?:sub)?lease(?:\s+agreement|\s+contract)?|tenancy(?:\s+agreement)?|rental\s+agreement|"
    r"(?:wohnungs-?|gewerbe-?)?mietvertrag|contrat\s+de\s+bail|bail\s+commercial|contrato\s+de\s+arrendamiento)\b", re.I)
# Lines that precede a title in filed exhibits ('EX-10.4', 'Exhibit 10.32', 'Source: https://...').
_PREAMBLE_LINE = re.compile(r"^\s*(?:ex(?:hibit|hibir)?[-\s]*\d+[\d.()a-z]*\b.*|source:.*|exv\d+\w*|\d+\s*|page\s+\d+.*|"
                            r"quicklinks.*|table\s+of\s+contents.*)$", re.I)
_BODY_START = re.compile(r"\b(?:this|these)\s+\w+|\bmade\b|\bdated\b|\bbetween\b|\bdear\b|\bre\s*:", re.I)

_GRANT = re.compile(r"hereby\s+(?:sub)?(?:leases?|lets?|demises?|rents?)|(?:sub)?leases?\s+to\s+(?:the\s+)?(?:sub)?(?:tenant|lessee)|"
                    r"does\s+hereby\s+(?:sub)?lease|agree\w*\s+to\s+(?:sub)?lease|lets?\s+to\s+(?:the\s+)?tenant|"
                    r"(?:landlord|lessor)\s+(?:sub)?leases\s+to|(?:sub)?lease\w*\s+(?:to|unto)\s+\S+[^.]{0,80}?\bthe\s+premises|"
                    r"leased\s+premises|demised\s+premises", re.I)
_AMENDS = re.compile(r"(?:hereby\s+|is\s+)amend(?:s|ed)|amends\s+the\s+lease|lease\s+is\s+(?:hereby\s+)?(?:amended|modified|"
                     r"extended)|term\s+of\s+the\s+lease\s+is\s+(?:hereby\s+)?extended|modif(?:y|ies)\s+the\s+lease", re.I)
_RESOLVED = re.compile(r"\b(?:be\s+it\s+)?resolved\s+that\b|\bresolution\b", re.I)


@dataclass(frozen=True)
class DocumentKind:
    """The classifier's verdict: kind, the keyword score that informed it, and why."""

    kind: str  # lease | amendment | not_a_lease
    score: float
    reason: str

    @property
    def is_lease(self) -> bool:
        """True for leases and amendments of leases (both carry lease terms)."""
        return self.kind != "not_a_lease"


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


def title_lines(text: str, max_lines: int = 6) -> list[str]:
    """The heading lines at the top of a document, before its first sentence of body text."""
    out: list[str] = []
    for line in re.split(r"[\n\f]+", text[:3000]):
        line = " ".join(line.split())
        if not line or _PREAMBLE_LINE.match(line):
            continue
        if len(line) > 160 or _BODY_START.match(line):
            # a long first line can still open with the title in capitals ('LEASE AGREEMENT THIS LEASE ...')
            caps = re.match(r"^((?:[A-Z0-9/&,.'()-]+\s+){1,10}?)(?=THIS\b|This\b)", line)
            if caps and not out:
                out.append(caps.group(1).strip())
            break
        out.append(line)
        if len(out) >= max_lines:
            break
    return out


def _title_kind(lines: list[str]) -> tuple[str, str] | None:
    for line in lines:
        if _AMENDMENT_TITLE.search(line):
            return "amendment", f"title '{line[:60]}'"
        if _ABOUT_LEASE_TITLE.search(line):
            return "not_a_lease", f"title '{line[:60]}' names a document about a lease"
        other, lease = _OTHER_TITLE.search(line), _LEASE_TITLE.search(line)
        if other and (lease is None or other.start() < lease.start()):
            return "not_a_lease", f"title '{line[:60]}' names another kind of document"
        if lease:
            return "lease", f"title '{line[:60]}'"
    return None


def classify_text(text: str) -> DocumentKind:
    """Classify a document from its text (title first, then the body)."""
    score = lease_score(text)
    by_title = _title_kind(title_lines(text))
    if by_title is not None:
        return DocumentKind(by_title[0], score, by_title[1])
    head = text[:20_000]
    if _RESOLVED.search(text[:3000]):
        return DocumentKind("not_a_lease", score, "a resolution about a lease, not a lease")
    if _AMENDS.search(text[:6000]) and re.search(r"\blease\b", text[:3000], re.I):
        return DocumentKind("amendment", score, "amends an existing lease")
    if score >= _THRESHOLD and (_GRANT.search(head) or re.search(r"\b(?:landlord|lessor)\b", head, re.I)):
        return DocumentKind("lease", score, "grants a lease")
    return DocumentKind("not_a_lease", score, f"does not read like a lease (score {score:.2f})")


def document_text(doc: ParsedDocument) -> str:
    """The canonical text the classifier reads: pages joined by form feeds (as the extractor sees them)."""
    return "\f".join(p.text for p in doc.pages)


def classify_document(doc: ParsedDocument) -> DocumentKind:
    """The kind of a parsed document; the same answer for the parse warning and the extractor."""
    return classify_text(document_text(doc))


def classify_lease(doc: ParsedDocument) -> tuple[bool, float]:
    """(is_lease or amendment, keyword score in 0..1) for a parsed document (see classify_document)."""
    verdict = classify_document(doc)
    return verdict.is_lease, verdict.score
