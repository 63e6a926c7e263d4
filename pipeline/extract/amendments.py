"""Document kind: a lease, an amendment of one (which carries only what it states), or not a lease at all."""
from __future__ import annotations

import re

from pipeline.extract.doctext import DocText
from pipeline.parse.classify import classify_text

_AMENDMENT_TITLE = re.compile(
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))?\s*"
    r"(?:amendment|modification|extension\s+agreement|lease\s+extension|supplement)\s+(?:no\.\s*\d+\s+)?(?:to|of)\s+"
    r"(?:the\s+)?(?:\w+\s+){0,2}(?:lease|tenancy)|lease\s+amendment|amendment\s+(?:no\.?\s*\d+|#\s*\d+)", re.I)


def detect_kind(dt: DocText) -> str:
    """'lease', 'amendment' or 'not_a_lease': the one document classifier's verdict (see pipeline.parse.classify)."""
    return classify_text(dt.raw).kind


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
