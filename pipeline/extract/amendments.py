"""Document kind: a lease, an amendment of one (which carries only what it states), or not a lease at all."""
from __future__ import annotations

import re

from pipeline.extract.doctext import DocText

_NOT_LEASE_TITLE = re.compile(
    r"non-?disclosure|confidentiality\s+agreement|purchase\s+and\s+sale|agreement\s+of\s+(?:purchase|sale)|"
    r"letter\s+of\s+intent|term\s+sheet|loan\s+agreement|promissory\s+note|deed\s+of\s+trust|"
    r"employment\s+agreement|services\s+agreement|option\s+to\s+purchase\s+agreement|estoppel\s+certificate|"
    r"subordination,?\s+non-?disturbance|guaranty\s+of\s+lease|guarantee\s+of\s+lease", re.I)
_AMENDMENT_TITLE = re.compile(
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))?\s*"
    r"(?:amendment|modification|extension\s+agreement|lease\s+extension|supplement)\s+(?:no\.\s*\d+\s+)?(?:to|of)\s+"
    r"(?:the\s+)?(?:\w+\s+){0,2}(?:lease|tenancy)|lease\s+amendment|amendment\s+(?:no\.?\s*\d+|#\s*\d+)", re.I)
_GRANT = re.compile(r"hereby\s+(?:leases?|lets?|demises?|rents?)|leases?\s+to\s+(?:the\s+)?(?:tenant|lessee)|"
                    r"does\s+hereby\s+lease|agree\w*\s+to\s+lease|lets?\s+to\s+(?:the\s+)?tenant|"
                    r"(?:landlord|lessor)\s+leases\s+to", re.I)


def detect_kind(dt: DocText) -> str:
    """'lease', 'amendment' or 'not_a_lease' from the title and the presence of a leasing grant."""
    head = dt.text[:600]
    title = dt.text[:250]
    if _NOT_LEASE_TITLE.search(title) and not re.search(r"\blease\s+agreement\b|\bthis\s+lease\b", head, re.I):
        return "not_a_lease"
    if _AMENDMENT_TITLE.search(title):
        return "amendment"
    if not re.search(r"\blease\b|\btenancy\b|\blessee\b|\btenant\b|\blet\b", dt.text[:20000], re.I):
        return "not_a_lease"
    if not _GRANT.search(dt.text) and not re.search(r"\b(?:landlord|lessor)\b", dt.text[:20000], re.I):
        return "not_a_lease"
    return "lease"


# Fields an amendment does not restate: the commencement of the original lease and its original term.
AMENDMENT_NULL_FIELDS = ("commencement_date", "term_months", "expense_recovery_type")


def appended_amendment_start(dt: DocText, min_share: float = 0.3) -> int | None:
    """Offset where an amendment filed after the original lease begins (a heading past min_share of the text), if any."""
    floor = int(len(dt.text) * min_share)
    for m in _AMENDMENT_TITLE.finditer(dt.text, floor):
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        line_start = dt.raw.rfind("\n", 0, start) + 1
        page_start = dt.raw.rfind("\f", 0, start) + 1
        lead = dt.raw[max(line_start, page_start):start]
        title = m.group(0).strip()
        numbered = re.search(r"first|second|third|fourth|fifth|\d|#", title, re.I) or title.isupper()
        if numbered and (lead.strip() == "" or re.fullmatch(r"\s*(?:this|exhibit\s+\w+)\s*[:\-]?\s*", lead, re.I)):
            return start  # 'FIRST AMENDMENT TO LEASE', 'Lease Amendment #1'; not a clause on amending the lease
    return None
