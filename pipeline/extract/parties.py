"""Landlord and tenant: defined-term resolution, labelled party tables and granting clauses."""
from __future__ import annotations

import re

from pipeline.extract.doctext import DocText, Hit

ROLES = {
    "landlord": r"(?:Landlord|Lessor|Leaser|Sublandlord|Sublessor|Over-?landlord)",
    "tenant": r"(?:Tenant|Lessee|Subtenant|Sublessee|Resident)",
}
_ENTITY_SUFFIX = r"(?:Ltd|Limited|Inc|Incorporated|LLC|L\.L\.C|LLP|LP|L\.P|plc|PLC|Corp|Corporation|Company|Co|GmbH|S\.A|N\.A|Trust|P\.C)\.?"

# Where a party's name ends: its legal descriptor, a registration parenthetical, an address clause.
_NAME_CUTS = [
    re.compile(r"[,\u201e]\s*(?:an?|the)\s+(?=[A-Za-z])", re.I),  # U+201E: a low quote typed for a comma
    re.compile(r"\s*\((?:foreign\s+|a\s+|an\s+)?(?:company|registered|registration|reg\b|reg\.|incorporated|"
               r"hereinafter|the\s|formerly|d/b/a|f/k/a|as\s|\"|')", re.I),
    re.compile(r",?\s+(?:incorporated\s+in|whose\b|having\s+(?:its|a)\b|with\s+(?:its|an?)\s+(?:registered|principal)|"
               r"residing\b|c/o\b|as\s+(?:landlord|tenant|lessor|lessee)\b)", re.I),
    re.compile(r"\b(?:Ltd|Inc|LLC|plc|Co)\.?(\s+of\s+)", re.I),
    re.compile(r"\s*\(\s*[\"']", re.I),
]
_BOUNDARY = re.compile(r"(?:\bbetween\b:?-?|,\s*and\b|[\"']\s*,?\s*and\b|\)\s*,?\s*and\b|;\s*and\b|\bmade\s+by\b|\bby\b|:|;|\f|\(\d+\)|(?<!Ltd)(?<!Inc)(?<!Co)(?<!Corp)(?<!No)(?<!\b[A-Z])\.\s+(?=[A-Z]))", re.I)
_BAD_NAME = re.compile(r"^(?:the\s+)?(?:landlord|tenant|lessor|lessee|guarantor|broker|party|parties|premises|"
                       r"address|c/o|by|name|title|date|n/a|none|see\b)|_{3,}|\bc/o\b|attention", re.I)


def clean_name(chunk: str) -> str | None:
    """Trim a party name to the legal name (no descriptor, registration or address)."""
    name = " ".join(chunk.split())
    for cut in _NAME_CUTS:
        m = cut.search(name)
        at = (m.start(1) if m.lastindex else m.start()) if m else -1
        if at > 1:
            name = name[:at]
    name = name.strip(" ,;:-\"'")
    if name.endswith(".") and not re.search(r"\b(?:Inc|Ltd|Co|Corp|L\.P|N\.A|P\.C|S\.A|L\.L\.C|Bros|Jr|Sr)\.$", name, re.I):
        name = name[:-1]
    if not name or len(name) < 2 or len(name) > 120 or _BAD_NAME.search(name):
        return None
    if not re.search(r"[A-Za-z]", name) or not (name[0].isupper() or name[0].isdigit()):
        return None
    if name[0].isdigit() and not re.search(rf"\b{_ENTITY_SUFFIX}", name):
        return None  # an address, not a party
    return name


def _backtrack(dt: DocText, pos: int) -> tuple[int, int] | None:
    """Span of the name written just before a defined-term parenthesis at pos."""
    lo = max(0, pos - 400)
    seg = dt.text[lo:pos]
    start = 0
    for m in _BOUNDARY.finditer(seg):
        if m.end() < len(seg) - 2:
            start = m.end()
    s = lo + start
    while s < pos and not dt.text[s].isalnum():
        s += 1
    return (s, pos) if pos - s > 1 else None


def _span_of_name(dt: DocText, s: int, e: int, name: str) -> tuple[int, int]:
    """Tighten [s,e) to where the cleaned name starts and ends."""
    seg = dt.text[s:e]
    idx = seg.find(name.split()[0])
    s2 = s + max(idx, 0)
    last = name.split()[-1]
    j = seg.find(last, max(idx, 0))
    e2 = s + j + len(last) if j >= 0 else min(e, s2 + len(name))
    return s2, e2


def defined_term_hits(dt: DocText, role: str) -> list[Hit]:
    """'X, a Delaware corporation ("Landlord")', 'between X (the "Landlord")', '(Hereinafter: "The Leaser")'."""
    pat = re.compile(
        r"\(\s*(?:the\s+|hereinafter(?:\s+(?:referred\s+to\s+as|called|the))?\s*:?\s*|collectively\s+)?\"?\s*(?:the\s+)?"
        + ROLES[role] + r"\s*\"?\s*\)", re.I)
    return _named_before(dt, pat, 0.9)


def referred_hits(dt: DocText, role: str) -> list[Hit]:
    """'X, an individual ..., referred to as "lessor,"': a defined role without the parenthesis."""
    pat = re.compile(r",?\s*(?:hereinafter\s+|herein\s+)?(?:referred\s+to\s+as|called)\s+(?:the\s+)?\"\s*"
                     + ROLES[role] + r"\s*[,.]?\s*\"", re.I)
    return _named_before(dt, pat, 0.85)


def _named_before(dt: DocText, pat: re.Pattern[str], score: float) -> list[Hit]:
    """The party name written just before each match of a role definition."""
    hits = []
    for m in pat.finditer(dt.text):
        span = _backtrack(dt, m.start())
        if not span:
            continue
        name = clean_name(dt.raw[span[0]:span[1]])
        if not name:
            continue
        s, e = _span_of_name(dt, span[0], span[1], name)
        hits.append(Hit(name, s, e, score, raw=dt.raw[span[0]:m.end()]))
    return hits


def label_hits(dt: DocText, role: str) -> list[Hit]:
    """'Landlord: X, a ...' lines in Basic Lease Information / particulars tables."""
    pat = re.compile(r"(?:^|\n|\f)[ \t]*(?:\(?\d+(?:\.\d+)*\)?\.?[ \t]*)?(?:The[ \t]+)?" + ROLES[role]
                     + r"\b(?:'s[ \t]+name)?[ \t]*(?:(?::|-|\t)?[ \t]*\n(?:[ \t]*\n){0,3})?[ \t]*(?::[ \t]*)?(?=(?-i:[A-Z0-9]))([^\n]{2,200})", re.I)
    hits = []
    for m in pat.finditer(dt.raw):
        label = dt.raw[m.start():m.start(1)]
        if ":" not in label and not re.search(rf"\b{_ENTITY_SUFFIX}(?:\s|$|,)", m.group(1)[:120], re.I):
            continue  # 'Landlord shall ...' prose, not a label
        name = clean_name(m.group(1))
        if not name or re.match(r"(?:shall|may|will|must|agrees|covenants|and|or|has|is|hereby)\b", name, re.I):
            continue
        s, e = _span_of_name(dt, m.start(1), m.end(1), name)
        hits.append(Hit(name, s, e, 0.85, raw=m.group(1).strip()))
    return hits


def alias_grant_hits(dt: DocText, role: str) -> list[Hit]:
    """'NAI does hereby LEASE ... unto BNPPLC' where NAI/BNPPLC are defined as 'NAME ("NAI")'."""
    aliases: dict[str, Hit] = {}
    for m in re.finditer(r"\(\s*(?:the\s+)?\"([A-Z][A-Za-z0-9&]{1,20})\"\s*\)", dt.text):
        span = _backtrack(dt, m.start())
        if span:
            name = clean_name(dt.raw[span[0]:span[1]])
            if name and m.group(1).lower() not in ("landlord", "tenant", "lessor", "lessee", "lease", "premises"):
                s, e = _span_of_name(dt, span[0], span[1], name)
                aliases.setdefault(m.group(1), Hit(name, s, e, 0.8))
    if not aliases:
        return []
    names = "|".join(re.escape(a) for a in aliases)
    grant = re.compile(rf"\b({names})\s+(?:does\s+)?hereby\s+(?:leases?|demises?|lets?)\b.{{0,200}}?\b(?:to|unto)\s+({names})\b", re.I)
    m = grant.search(dt.text)
    if not m:
        return []
    alias = m.group(1) if role == "landlord" else m.group(2)
    key = next(a for a in aliases if a.lower() == alias.lower())
    h = aliases[key]
    return [Hit(h.value, h.start, h.end, 0.8, raw=dt.raw[m.start():m.end()])]


def extract_party(dt: DocText, role: str) -> Hit | None:
    """The landlord or tenant as the lease defines it."""
    hits = defined_term_hits(dt, role) + label_hits(dt, role) + referred_hits(dt, role)
    if not hits:
        hits = alias_grant_hits(dt, role)
    if not hits:
        return None
    # The first definition wins (later mentions are signature blocks, notices, amendments).
    hits.sort(key=lambda h: (h.start, -h.score))
    best = hits[0]
    agree = sum(1 for h in hits if h.value.lower() == best.value.lower())
    best.score = min(0.97, best.score + 0.03 * (agree - 1))
    return best
