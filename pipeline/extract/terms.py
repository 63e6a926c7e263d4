"""Currency, security deposit, renewal option and terms, governing law, expense recovery type, asset type."""
from __future__ import annotations

import re

from pipeline.extract import clauses
from pipeline.extract.doctext import DocText, Hit
from pipeline.extract.normalise import COUNT_RE, find_money, parse_count
from pipeline.extract.places import CA_PROVINCES, US_STATES
from pipeline.parse.classify import title_lines

_REGIONS = {**US_STATES, **CA_PROVINCES}
_REGION_NAMES = sorted(set(_REGIONS.values()), key=len, reverse=True)


def region_of_address(address: str) -> str | None:
    """State/province named in an address ('Austin, TX 78701' -> 'Texas')."""
    for name in _REGION_NAMES:
        if re.search(rf"\b{name}\b", address):
            return name
    m = re.search(r",\s*([A-Z]{2})\b(?:\s+[\dA-Z])?", address)
    return _REGIONS.get(m.group(1)) if m else None


def extract_currency(dt: DocText, base: Hit | None) -> Hit | None:
    """ISO currency: an express 'payable in Canadian dollars' clause, else the base rent's currency symbol."""
    explicit = [
        (r"lawful\s+money\s+of\s+canada|canadian\s+dollars|\bCAD\b|\bC\$", "CAD"),
        (r"pounds?\s+sterling|lawful\s+money\s+of\s+the\s+united\s+kingdom", "GBP"),
        (r"lawful\s+money\s+of\s+the\s+united\s+states|united\s+states\s+dollars|u\.s\.\s+dollars|\bUSD\b", "USD"),
        (r"\bin\s+euros?\b|\beuros?\s+\(|\bEUR\b", "EUR"),
    ]
    for pat, code in explicit:
        m = re.search(pat, dt.text, re.I if code != "EUR" else 0)
        if m and re.search(r"pa(?:y|id)able|paid|rent|amounts|sums|money", dt.text[max(0, m.start() - 150):m.end() + 50], re.I):
            return Hit(code, m.start(), m.end(), 0.9)
    if base is not None:
        lo = max(0, base.start - 5)
        for _amt, code, s, e in find_money(dt.text[lo:base.end + 5]):
            return Hit(code, lo + s, lo + e, 0.85)
    codes: dict[str, list[tuple[int, int]]] = {}
    for _amt, code, s, e in find_money(dt.text):
        codes.setdefault(code, []).append((s, e))
    if not codes:
        m = re.search(r"\b(pounds|dollars|euros)\b", dt.text, re.I)
        if m:
            code = {"pounds": "GBP", "dollars": "USD", "euros": "EUR"}[m.group(1).lower()]
            return Hit(code, m.start(), m.end(), 0.6)
        return None
    code, spans = max(codes.items(), key=lambda kv: len(kv[1]))
    return Hit(code, spans[0][0], spans[0][1], 0.7)


def extract_deposit(dt: DocText) -> Hit | None:
    """Security deposit amount; 0 when expressly none; None (with a note) for a letter of credit with no figure."""
    for m in re.finditer(r"security\s+deposit|deposit\s+with\s+(?:sub)?(?:landlord|lessor)|as\s+(?:a\s+)?security\s+(?:deposit\s+)?for",
                         dt.text, re.I):
        after = dt.text[m.end():m.end() + 160]
        before = dt.text[max(0, m.start() - 160):m.start()]
        if re.match(r"\s*(?::|-|is|shall\s+be)?\s*(?:n/?a|none|not\s+applicable|nil|\$?0(?:\.00)?\b|zero)", after, re.I) or \
                re.search(r"no\s+security\s+deposit", dt.text[m.start() - 3:m.end() + 5], re.I):
            return Hit(0, m.start(), min(len(dt.text), m.end() + len(re.match(r"\s*\S*\s*\S*", after).group(0))), 0.85)
        if re.search(r"security\s+deposit\s*(?::|is)?\s*none\s+required|(?:none|no\s+deposit)\s+(?:is\s+)?required", after[:60] , re.I):
            return Hit(0, m.start(), m.end(), 0.85)
        if "as security" in m.group(0).lower():
            money = list(find_money(before[-120:]))
            if money:
                amt, _c, s, e = money[-1]
                base = m.start() - len(before[-120:])
                return Hit(amt, base + s, base + e, 0.85)
        clause = re.split(r"\.\s+(?=[A-Z])|;", after)[0]
        money = list(find_money(clause))
        if money:
            amt, _c, s, e = money[0]
            if re.search(r"late|interest|per\s+day|insurance", clause[:s], re.I):
                continue
            return Hit(amt, m.end() + s, m.end() + e, 0.85)
    m = re.search(r"no\s+security\s+deposit|security\s+deposit\s+(?:shall\s+not\s+be|is\s+not)\s+required", dt.text, re.I)
    if m:
        return Hit(0, m.start(), m.end(), 0.85)
    return _deposit_in_clause(dt)


def _deposit_in_clause(dt: DocText) -> Hit | None:
    """The first amount of a clause headed or labelled as the deposit ('9. DEPOSIT ... the sum of $1,750.00')."""
    for c in clauses.clauses(dt, "deposit"):
        body = dt.text[c.start:min(c.end, c.start + 500)]
        if c.kind == "label" and re.match(r"\s*(?:n/?a|none|nil|not\s+applicable)\b", body, re.I):
            return Hit(0, c.start, c.start + len(body.split()[0]), 0.75)
        for amount, _code, s, e in find_money(body):
            if re.search(r"letter\s+of\s+credit|per\s+(?:day|month)|late|interest", body[max(0, s - 80):s], re.I):
                break
            return Hit(amount, c.start + s, c.start + e, 0.75, extra=[(c.start, c.start + min(len(c.title), 60))]
                       if c.kind == "section" else [])
    return None


def letter_of_credit(dt: DocText) -> Hit | None:
    """A letter of credit given as security (noted in the deposit's raw text)."""
    m = re.search(r"(?:irrevocable\s+)?(?:standby\s+)?letter\s+of\s+credit[^.]{0,120}", dt.text, re.I)
    return Hit("letter_of_credit", m.start(), m.end(), 0.5) if m else None


_RENEW_NEG = re.compile(r"(?:does\s+not\s+(?:include|contain|grant)|no|without\s+any|shall\s+not\s+have\s+any|"
                        r"there\s+(?:is|are)\s+no)\s+(?:\w+\s+){0,2}(?:option|right)s?\s+to\s+(?:renew|extend)|"
                        r"renewal\s+option\s*:\s*none|"
                        r"(?:option|right)s?\s+to\s+(?:renew|extend)[^.;]{0,80}?(?:(?:is|are)\s+hereby\s+deleted|"
                        r"(?:is|are)\s+(?:hereby\s+)?(?:void|null\s+and\s+void|terminated|waived))", re.I)
# English Land Registry prescribed clause LR9.1 answered with a dash or 'None': no contractual right to renew.
_LR_NO_RENEWAL = re.compile(r"LR9\.1\s+Tenant'?s\s+contractual\s+rights?\s+to\s+renew[^\f]{0,200}?\s+"
                            r"(?:-|None|Not\s+applicable|N/A)(?=\s+LR9\.2|\s*$)", re.I)
_RENEW_POS = re.compile(rf"(?:{COUNT_RE})\s+(?:\(\d+\)\s+)?(?:consecutive\s+|additional\s+|successive\s+)?(?:option|right)(?:\(s\)|s)?\s+"
                        r"(?:to\s+(?:renew|extend)|of\s+)|option\s+to\s+(?:renew|extend)|renewal\s+option|"
                        r"automatically\s+renew|right\s+to\s+(?:renew|extend)|renew\s+this\s+(?:agreement|lease)\s+for|"
                        r"options?\s+to\s+extend", re.I)


_GRANTED = re.compile(r"(?:tenant|lessee|resident)\s+(?:shall|will)\s+have|(?:tenant|lessee)\s+(?:has|is\s+(?:hereby\s+)?granted|"
                      r"may\s+(?:renew|extend))|hereby\s+grant|renewal\s+option\s*:|automatically\s+renew|"
                      r"renew\s+this\s+(?:agreement|lease)\s+for|option\(s\)\s+of|options?\s+to\s+extend\s+the\s+term", re.I)


def extract_renewal(dt: DocText, limit: int | None = None) -> tuple[Hit | None, Hit | None]:
    """(renewal_option, renewal_terms), read before `limit` (where an appended amendment starts)."""
    end = limit if limit is not None else len(dt.text)
    neg = next((n for n in _RENEW_NEG.finditer(dt.text, 0, end) if not re.search(r"\bfurther\b", n.group(0), re.I)), None)
    # 'no further right to extend' closes an extension already granted; it does not say there is none
    prescribed = _LR_NO_RENEWAL.search(dt.text, 0, end)
    if prescribed is not None and (neg is None or prescribed.start() < neg.start()):
        neg = prescribed
    conditional: Hit | None = None
    for m in _RENEW_POS.finditer(dt.text, 0, end):
        s, e = dt.sentence_bounds(m.start(), 500)
        sentence = dt.text[s:e]
        if conditional is None and _CONDITIONAL_OPTION.search(sentence):
            conditional = Hit(False, m.start(), min(e, m.start() + 160), 0.6)
        if re.search(r"right\s+of\s+first|purchase|expansion", sentence, re.I) or _CONDITIONAL_OPTION.search(sentence):
            continue
        if neg and (neg.start() <= m.start() <= neg.end() or s <= neg.start() < e):
            break  # the same sentence denies or deletes the option ('Renewal Option: Tenant shall have no option')
        if not _GRANTED.search(sentence):
            continue
        option = Hit(True, m.start(), min(e, m.start() + 160), 0.8)
        return option, _renewal_terms(dt, s, e, m)
    if neg:
        return Hit(False, neg.start(), neg.end(), 0.8), None
    # an option 'only if provided for in Appendix A' and no clause granting one: the lease gives none
    return conditional, None


_CONDITIONAL_OPTION = re.compile(r"(?:if|to\s+the\s+extent)\s+(?:so\s+)?(?:provided|specified)\s+(?:for\s+)?in\s+"
                                 r"(?:an?\s+|the\s+)?(?:appendix|schedule|exhibit|annex|rider)", re.I)


def _renewal_terms(dt: DocText, s: int, e: int, m: re.Match[str]) -> Hit | None:
    sentence = dt.text[s:e]
    region = dt.text[s:min(len(dt.text), e + 1200)]
    if re.search(r"automatically\s+renew", sentence, re.I):
        per = re.search(rf"({COUNT_RE})\s*(?:\(\d+\)\s*)?(month|year)", sentence, re.I)
        n = int(parse_count(per.group(1)) or 0) if per else 0
        basis = "landlord's then-current market rent" if re.search(r"then.current\s+market", sentence, re.I) else "market rent"
        text = f"automatic {n}-{per.group(2).lower()} renewals at {basis}" if n else f"automatic renewals at {basis}"
        return Hit(text, m.start(), min(e, m.start() + 190), 0.65)
    count = re.search(rf"({COUNT_RE})\s*(?:\(\d+\)\s*)?(?:consecutive\s+|additional\s+|successive\s+|renewal\s+|extension\s+)?"
                      rf"(?:(?:{COUNT_RE})\s*(?:\(\d+\)\s*)?[\s-]?(?:year|month)\s+)?"  # 'N (n) successive M (m) year periods'
                      r"(?:options?|option\(s\)|terms?|periods?)", sentence, re.I)
    length = re.search(rf"(?:for|of)\s+(?:an?\s+)?(?:additional\s+)?(?:period\s+of\s+)?({COUNT_RE})\s*(?:\(\d+\)\s*)?(years?|months?)",
                       sentence, re.I) or re.search(rf"({COUNT_RE})\s*(?:\(\d+\)\s*)?[\s-](years?|months?)", sentence, re.I)
    n = int(parse_count(count.group(1)) or 1) if count else 1
    if not length:
        return None
    k = int(parse_count(length.group(1)) or 0)
    unit = "years" if length.group(2).lower().startswith("year") else "months"
    basis = _renewal_basis(region) or _renewal_basis(_referenced_clause(dt, sentence))
    text = f"{n} x {k} {unit}" + (f" at {basis}" if basis else "")
    return Hit(text, m.start(), min(e, m.start() + 190), 0.6)


def _referenced_clause(dt: DocText, sentence: str, size: int = 1500) -> str:
    """The text of the clause a sentence points to ('as described in Paragraph 3.3 below'), or ''."""
    ref = re.search(r"(?:paragraph|section|clause|article)\s+(\d+(?:\.\d+)+|\d+)", sentence, re.I)
    if ref is None:
        return ""
    heading = re.search(rf"(?m)^[ \t]*(?:(?:paragraph|section|clause|article)\s+)?{re.escape(ref.group(1))}(?![\d.]\d)[.)]?\s",
                        dt.raw, re.I)
    return dt.text[heading.start():heading.start() + size] if heading else ""


def _renewal_basis(region: str) -> str | None:
    low = region.lower()
    greater = re.search(r"greater\s+of.{0,40}?(\d+(?:\.\d+)?)%.{0,200}?fair\s+market", low)
    if greater:
        by_ll = " determined by landlord" if re.search(r"as\s+determined\s+by\s+(?:landlord|lessor)", low) else ""
        return f"greater of {greater.group(1)}% of prior base rent or fair market rent{by_ll}"
    pct_fmv = re.search(r"(\d+(?:\.\d+)?)%\)?\s+of\s+(?:the\s+)?(?:then\s+)?(?:prevailing\s+)?fair\s+market\s+(rent(?:al)?(?:\s+value)?|value)", low)
    if pct_fmv:
        return f"{pct_fmv.group(1)}% of fair market {pct_fmv.group(2)}"
    up_to = re.search(r"(?:not\s+(?:to\s+)?exceed(?:ing)?|up\s+to|no\s+more\s+than)\s+[^.]{0,60}?(\d+(?:\.\d+)?)%\)?\s+of\s+the\s+(?:then\s+)?(?:current\s+)?rent", low)
    if up_to:
        return f"up to {up_to.group(1)}% of current rent"
    pct_prior = re.search(r"(\d+(?:\.\d+)?)%\)?\s+of\s+the\s+(?:base\s+)?rent\s+(?:in\s+effect|payable|for\s+the\s+(?:last|final|prior))", low)
    if pct_prior:
        return f"{pct_prior.group(1)}% of prior base rent"
    if re.search(r"fair\s+market\s+rent", low):
        return "fair market rent"
    if re.search(r"fair\s+market\s+(?:rental\s+)?value", low):
        return "fair market value"
    if re.search(r"market\s+rent", low):
        return "market rent"
    return None


_LAW_RE = re.compile(
    r"(?:governed\s+(?:by|in\s+accordance\s+with)|construed\s+(?:and\s+enforced\s+)?(?:in\s+accordance\s+with|under|by)|"
    r"interpreted\s+(?:in\s+accordance\s+with|under))[^.;]{0,60}?\blaws?\s+of\s+(?:the\s+)?"
    r"(?:(state|commonwealth|province|district|country)\s+(?:of\s+)?)?"
    r"(in\s+which\s+the\s+(?:premises|property|building|project)\s+(?:are|is)\s+(?:located|situated)|"
    r"England\s+and\s+Wales|England|Scotland|Northern\s+Ireland|Ireland|[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+){0,2})",
    re.I)


def extract_governing_law(dt: DocText, address: Hit | None) -> Hit | None:
    """Jurisdiction named in a choice-of-law clause ('laws of the State in which the Premises are located' resolved)."""
    return _law_of(dt, address)


def _law_of(dt: DocText, address: Hit | None) -> Hit | None:
    for m in _LAW_RE.finditer(dt.text):
        target = m.group(2)
        if re.match(r"in\s+which", target, re.I):
            if address is None:
                continue
            region = region_of_address(address.value)
            if region:
                return Hit(region, m.start(), m.end(), 0.75, extra=[(address.start, address.end)])
            continue
        name = " ".join(target.split())
        name = re.sub(r"\s+(?:and|without|excluding|applicable|as|which|that|including)\b.*$", "", name) \
            if not name.lower().startswith("england and") else name
        if name.lower() in ("united", "the"):
            continue
        if name.lower() == "united states":
            continue
        start = m.start(2)
        return Hit(name, max(m.start(), start - 40), m.start(2) + len(name), 0.9)
    return None


_EXPENSE = [
    ("modified_gross", r"modified\s+gross"),
    ("base_year", r"base\s+year|base\s+operating\s+(?:cost|expense)|expense\s+stop|increases?\s+(?:in\s+\w+\s+)?over\s+(?:the\s+)?base"),
    ("nnn", r"triple[\s-]+net|\bNNN\b|absolutely\s+net|net[\s,]+net[\s,]+net|carefree\s+net|fully\s+net|bondable"),
    ("gross", r"full[\s-]+service\s+gross|\bgross\s+(?:lease|sublease)\b|(?:lease|rent)\s+shall\s+be\s+(?:on\s+a\s+)?gross\b|"
              r"\bgross\s+(?:in\s+nature|basis)|"
              r"\brent\b(?:[^.;]|\.(?=\d)){0,80}?\b(?:is\s+)?(?:also\s+)?(?:inclusive\s+of|includes?)\s+(?:all\s+)?(?:\w+\s+){0,3}?"
              r"(?:operating\s+expenses|(?:real\s+estate\s+|property\s+)?taxes|utilities|common\s+area|services)|"
              r"operating\s+expenses[^.;]{0,60}?(?:(?:the\s+)?responsibility\s+of|paid\s+by|borne\s+by)\s+(?:the\s+)?"
              r"(?:sub)?(?:landlord|lessor)"),
    ("net", r"\bnet\s+lease|\bdouble\s+net|\bNN\b"),
    ("nnn", r"(?:tenant|lessee)\s+(?:shall|covenants?\s+(?:with\s+the\s+landlord\s+)?to)\s+pay[^.;]{0,80}?service\s+charge"),
]
_PAYER = r"(?:sub)?(?:tenant|lessee)s?'?s?"
# The three cost families a net lease passes to the tenant.
_FAMILIES = {
    "taxes": r"(?:real\s+(?:estate|property)\s+)?taxes|impositions",
    "insurance": r"insurance\s+premiums?|(?:landlord|lessor)'?s\s+(?:\w+\s+)?insurance",
    "operating": r"operating\s+(?:expenses|costs)|common\s+area|maintenance\s+(?:expenses|costs)|repairs?\b",
}
_BEARS = re.compile(rf"\b{_PAYER}\s+(?:shall|will|agrees\s+to|covenants?\s+(?:with\s+the\s+\w+\s+)?to)\s+(?:also\s+)?(?:pay|reimburse|bear|be\s+responsible\s+for|"
                    r"maintain)", re.I)


# taxes on the tenant's own property or on the rent payments are paid under gross leases too
_OWN_TAXES = re.compile(r"personal\s+property|sales|\buses?\s+tax|income|franchise|(?:trade\s+)?fixtures|"
                        r"levied\s+(?:on|against)\s+(?:all\s+)?rent", re.I)


def _expense_by_burden(dt: DocText) -> Hit | None:
    """nnn when the tenant bears taxes, insurance and operating costs; net when it bears some of them."""
    borne: dict[str, tuple[int, int]] = {}
    for m in _BEARS.finditer(dt.text):
        s, e = dt.sentence_bounds(m.start(), 400)
        sentence = dt.text[m.start():e]
        for family, pat in _FAMILIES.items():
            f = next((f for f in re.finditer(pat, sentence, re.I)
                      if not _OWN_TAXES.search(sentence[max(0, f.start() - 40):f.end() + 40])), None)
            if f and family not in borne:
                borne[family] = (m.start(), m.start() + f.end())
    if not borne:
        return None
    first = min(borne.values())
    spans = sorted(borne.values())
    kind = "nnn" if len(borne) == 3 else "net"
    return Hit(kind, first[0], first[1], 0.6, extra=spans[1:])


def extract_expense_type(dt: DocText) -> Hit | None:
    """Expense recovery type: nnn, net, gross, modified_gross or base_year."""
    found: list[Hit] = []
    for rank, (kind, pat) in enumerate(_EXPENSE):
        m = re.search(pat, dt.text, re.I if pat != r"\bNN\b" else 0)
        if m:
            score = 0.85 if rank < 5 else 0.55
            found.append(Hit(kind, m.start(), m.end(), score - 0.01 * rank))
    if not found:
        return _expense_by_burden(dt)
    return found[0]


_ASSET = [
    ("medical", r"medical\s+office|clinic\s+building|medical\s+building"),
    ("mixed_use", r"mixed[\s-]use"),
    ("multifamily", r"\bapartment\b|residential\s+(?:lease|tenancy)|private\s+residence|dwelling\s+unit|multifamily"),
    ("retail", r"shopping\s+(?:center|centre|mall)|retail\s+(?:center|building|store|premises)|strip\s+center"),
    ("industrial", r"industrial\s+(?:building|park|premises|facility)|warehouse\s+(?:building|facility)|"
                   r"manufacturing|distribution\s+(?:center|facility)|Use\s+Classes?\s+B[128]"),
    ("land", r"unimproved\s+land|ground\s+lease|vacant\s+land|land\s+only|for\s+land\b"),
    ("office", r"office\s+building|general\s+office|office\s+(?:use|purposes)|\boffices\b|office\s+space"),
]


def extract_asset_type(dt: DocText) -> Hit | None:
    """Asset type from the document's title, else its permitted-use clause (found by structure), else the earliest
    description of the building or use."""
    head = dt.text[:3000]
    for line in title_lines(dt.raw):
        at = head.find(line)
        for kind, pat in _ASSET:
            m = re.search(pat, line, re.I)
            if m and at >= 0:
                return Hit(kind, at + m.start(), at + m.end(), 0.8)
    for c in clauses.clauses(dt, "use"):
        lo, hi = c.start, min(c.end, c.start + 1500)
        found = [(m.start(), kind, m) for kind, pat in _ASSET if (m := re.compile(pat, re.I).search(dt.text, lo, hi))]
        if found:
            _pos, kind, m = found[0]  # the most specific kind the clause names (medical office before office)
            return Hit(kind, m.start(), m.end(), 0.8, extra=[(c.start, c.start + min(len(c.title), 60))]
                       if c.kind == "section" else [])
    best: Hit | None = None
    for kind, pat in _ASSET:
        m = re.search(pat, dt.text, re.I)
        if m and (best is None or m.start() < best.start):
            best = Hit(kind, m.start(), m.end(), 0.8)
    return best
