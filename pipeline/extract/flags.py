"""Risk flags: landlord-favourable clauses of the 15 types, with benign versions of the same topics left alone."""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract.doctext import DocText
from pipeline.extract.normalise import parse_percent

LL = r"(?:Landlord|Lessor|Owner)"
TT = r"(?:Tenant|Lessee|Resident)"


@dataclass(frozen=True)
class FlagRule:
    """One pattern for a flag type; `unless` rejects benign wording in the same sentence."""

    type: str
    pattern: str
    severity: str
    explanation: str
    unless: str | None = None
    confidence: float = 0.75


RULES: list[FlagRule] = [
    FlagRule("holdover_penalty",
             r"(?:hold(?:s|ing)?\s*over|holdover|sufferance|remain\w*\s+in\s+(?:possession|the\s+premises)\s+after)[^.]{0,300}?"
             r"(?:(?:1[5-9]\d|[2-9]\d\d)\s*%|(?:two|three|four|double|triple|twice|2|3)\s*(?:\(\d\)\s*)?times|"
             r"(?:one\s+hundred\s+(?:fifty|sixty|seventy|seventy-five|eighty|ninety)|(?:two|three)\s+hundred)[\w\s-]*percent)"
             r"|(?:1[5-9]\d|[2-9]\d\d)\s*%[^.]{0,200}?(?:retains?\s+possession|hold(?:s|ing)?\s*over|remains?\s+in\s+possession)",
             "medium", "Holdover rent of 150% or more of the rent in effect."),
    FlagRule("assignment_restriction",
             rf"(?:assign\w*|change\s+in\s+(?:the\s+)?(?:ownership|control))[^.]{{0,250}}?(?:sole\s+(?:and\s+absolute\s+)?discretion|"
             rf"withhold\s+for\s+any\s+reason|for\s+any\s+reason\s+or\s+no\s+reason|absolute\s+discretion|recapture)"
             rf"|{LL}'?s?\s+(?:option|right)\s+to\s+terminate[^.]{{0,120}}?assign"
             rf"|if\s+{TT}\s+has\s+notified\s+{LL}\s+that\s+{TT}\s+intends\s+to\s+assign"
             rf"|wishes\s+to\s+assign[^.]{{0,80}}?(?:must\s+first|shall\s+first)\s+(?:make\s+an\s+)?offer"
             # consent to assign, then a later sentence of the same clause keeps the landlord's sole discretion
             rf"|assign\w*(?:(?!sublet|sublease|underlet|unreasonabl)[\s\S]){{0,400}}?sole\s+discretion\w*\s+(?:power\s+|right\s+)?"
             rf"to\s+(?:grant\s+or\s+)?(?:withhold|refuse)",
             "medium", "Assignment needs consent the landlord may refuse at its sole discretion, or triggers recapture.",
             unless=r"^(?:(?!assign).)*\b(?:sublet|sublease|underlet)"),  # a sublease-first sentence
    FlagRule("sublease_restriction",
             rf"(?:sublet|sublease|underlet)\w*[^.]{{0,250}}?(?:sole\s+(?:and\s+absolute\s+)?discretion|under\s+any\s+circumstances|"
             rf"withhold\s+for\s+any\s+reason|absolute\s+discretion|recapture)"
             rf"|(?:shall\s+not|not\s+to)\s+(?:sublet|underlet)[^.]{{0,120}}?(?:under\s+any\s+circumstances|otherwise\s+than|"
             rf"at\s+a\s+rent\s+less)",
             "medium", "Subletting is barred or subject to the landlord's sole discretion or recapture."),
    FlagRule("landlord_termination_right",
             rf"{LL}\s+(?:may|shall\s+have\s+the\s+right\s+to|has\s+the\s+right\s+to|reserves\s+the\s+right\s+to|"
             rf"shall\s+be\s+entitled\s+to)\s+(?:at\s+any\s+time\s+)?(?:terminate|cancel)\s+this\s+lease[^.]{{0,200}}"
             rf"|{LL}\s+shall\s+have\s+the\s+right\s+to\s+terminate\s+this\s+lease[^.]{{0,200}}"
             rf"|{LL}'?s?\s+(?:right|option|election)\s+to\s+terminate\s+this\s+lease[^.]{{0,100}}"
             rf"|{LL}\s+(?:may|shall\s+have\s+the\s+right\s+to)[^.]{{0,30}}relocate\s+{TT}[^.]{{0,150}}"
             rf"|relocate\s+{TT}[^.]{{0,100}}(?:other|comparable|substitute)\s+(?:space|premises)",
             "high", "The landlord may end the lease or relocate the tenant without tenant default.",
             unless=r"event\s+of\s+default|default\s+by\s+tenant|uncured|cure\s+period|casualty|damage|destr|condemn|"
                    r"taking|eminent\s+domain|bankrupt|insolven|fail\w*\s+to\s+(?:pay|execute|deliver)|breach"),
    FlagRule("early_termination",
             rf"{TT}\s+shall\s+have\s+the\s+(?:one-time\s+)?(?:right|option)\s+to\s+terminate\s+this\s+lease[^.]{{0,200}}"
             rf"|either\s+party\s+may\s+terminate\s+this\s+lease\s+at\s+any\s+time[^.]{{0,120}}"
             rf"|early\s+termination\s+fee[^.]{{0,150}}"
             rf"|shorten\s+the\s+term[^.]{{0,150}}"
             rf"|before\s+a\s+break\s+date[^.]{{0,150}}|break\s+(?:clause|option|right)[^.]{{0,120}}"
             rf"|{TT}\s+(?:may|will\s+have\s+the\s+right\s+to|shall\s+be\s+entitled\s+to)\s+terminate\s+this\s+\w*\s*lease"
             rf"[^.]{{0,150}}",
             "medium", "A party may end the lease early outside default, casualty or condemnation.",
             unless=r"neither\s+party|casualty|damage|destr|condemn|taking|eminent\s+domain|default|not\s+delivered|"
                    r"substantial\s+completion"),
    FlagRule("uncapped_operating_expenses",
             r"no\s+(?:cap|limit)(?:\s+or\s+limitation)?\s+on\s+the\s+amount[^.]{0,150}|without\s+limitation\s+as\s+to\s+amount[^.]{0,100}"
             r"|(?:operating\s+expenses|service\s+charge|common\s+area)[^.]{0,150}?(?:shall\s+not\s+be\s+subject\s+to\s+any\s+cap|"
             r"without\s+(?:any\s+)?cap|uncapped)",
             "high", "Tenant pays operating expenses with no cap."),
    FlagRule("ambiguous_maintenance",
             rf"(?:repair|maint)\w*[^.]{{0,200}}?(?:{LL}\s+or\s+{TT},?\s+as\s+appropriate|as\s+such\s+terms\s+may\s+be\s+interpreted|"
             rf"in\s+such\s+manner\s+as\s+may\s+be\s+reasonable)[^.]{{0,150}}"
             rf"|minor\s+repairs\s+and\s+{LL}\s+shall\s+be\s+responsible\s+for\s+major\s+repairs[^.]{{0,120}}",
             "medium", "Repair responsibilities are not clearly allocated."),
    FlagRule("excessive_service_charges",
             r"(?:administrative|management|supervision|overhead|admin)\s+(?:and\s+management\s+)?(?:fee|surcharge|charge)\s+"
             r"(?:equal\s+to|of)\s+[^.]{0,40}?\(?\s*(?:1[0-9]|[2-9]\d)(?:\.\d+)?\s*%[^.]{0,120}"
             r"|may\s+be\s+increased\s+by\s+(?:landlord|lessor)\s+at\s+any\s+time\s+and\s+without\s+limit[^.]{0,60}"
             r"|surcharge[^.]{0,100}?payable\s+whether\s+or\s+not[^.]{0,80}",
             "medium", "Service or management charges are high or open-ended."),
    FlagRule("hidden_fees",
             rf"(?:any\s+)?other\s+(?:fees|charges|services\s+and\s+fees)\s+(?:posted|as\s+{LL}\s+may\s+(?:establish|impose|determine))[^.]{{0,150}}"
             rf"|whether\s+or\s+not\s+such\s+(?:fees|charges)\s+are\s+set\s+forth\s+in\s+this\s+lease",
             "medium", "Fees not set out in the lease may be charged."),
    FlagRule("restrictive_use",
             r"used\s+(?:solely|exclusively|only)\s+for\s+(?:the\s+operation\s+of\s+)?[^.]{0,100}?and\s+for\s+no\s+other\s+purpose\s+whatsoever",
             "low", "The permitted use is narrowly restricted."),
    FlagRule("non_compete",
             rf"(?:{TT}|neither\s+{TT}\s+nor\s+any\s+affiliate)[^.]{{0,120}}?(?:compet\w+|similar\s+business|business\s+similar)[^.]{{0,160}}?"
             rf"within\s+(?:a\s+radius\s+of\s+)?[\w\s()-]{{1,30}}?(?:miles?|kilomet\w+|km)"
             rf"|(?:shall\s+not|neither)[^.]{{0,80}}?(?:own|operate)[^.]{{0,80}}?within\s+(?:a\s+radius\s+of\s+)?[\w\s()-]{{1,30}}?(?:miles?|kilomet\w+)",
             "medium", "The tenant is barred from competing businesses near the premises.",
             unless=rf"{LL}\s+(?:agrees|shall\s+not\s+lease)"),
    FlagRule("ambiguous_language",
             rf"(?:rent|rental)\s+may\s+be\s+adjusted\s+from\s+time\s+to\s+time\s+as\s+appropriate[^.]{{0,100}}"
             rf"|(?:interpreted|construed)\s+in\s+the\s+manner\s+{LL}\s+(?:considers|deems|determines)[^.]{{0,100}}"
             rf"|increased\s+rate\s+of\s+\d+%\s+of\s+the\s+then[^.]{{0,60}}",
             "medium", "Key terms are left to interpretation or the landlord's judgement."),
    FlagRule("tenant_insurance_burden",
             rf"(?:reimburse|pay)\s+{LL}\s+(?:for\s+)?(?:the\s+)?(?:full|entire|all|one\s+hundred\s+percent|\(?100\s*%\)?)"
             rf"[^.]{{0,40}}?premiums?\b[^.]{{0,150}}"
             rf"|responsible\s+for\s+any\s+loss\s+to\s+the\s+(?:building|premises|property)\s+not\s+covered[^.]{{0,80}}"
             rf"|(?:keep|insure)\s+the\s+(?:premises|building|property)[^.]{{0,120}}?(?:full\s+)?(?:reinstatement|replacement)\s+"
             rf"(?:cost|value)[^.]{{0,60}}",
             "medium", "The tenant carries insurance costs or risks that normally sit with the landlord."),
    FlagRule("broad_indemnification",
             rf"indemnif\w+[^.]{{0,300}}?(?:including\s+claims\s+arising\s+from\s+the\s+sole\s+negligence\s+of\s+{LL}|"
             rf"(?:sole|active|passive)\s+negligence\s+of\s+{LL}|regardless\s+of\s+(?:any\s+)?(?:negligence|fault)\s+(?:of|by)\s+{LL}|"
             rf"arising\s+from\s+any\s+cause\s+whatsoever)[^.]{{0,120}}",
             "high", "One-sided tenant indemnity that also covers the landlord's own negligence.",
             unless=rf"except\s+(?:to\s+the\s+extent\s+)?(?:caused\s+by|for|arising\s+from)\s+(?:the\s+)?(?:\w+\s+)?negligence|"
                    rf"each\s+party\s+shall\s+indemnify|excluding[^.]{{0,30}}negligence"),
    FlagRule("unfavorable_renewal",
             rf"automatically\s+renew[^.]{{0,150}}?as\s+determined\s+by\s+{LL}[^.]{{0,40}}"
             rf"|(?:fair\s+)?market\s+rent\s+as\s+determined\s+by\s+{LL}\s+in\s+its\s+sole[^.]{{0,60}}"
             rf"|(?:renew|extension|extend)[^.]{{0,200}}?as\s+determined\s+by\s+{LL}\s+in\s+its\s+(?:sole|absolute)[^.]{{0,40}}",
             "medium", "Renewal rent is set unilaterally by the landlord or renews automatically at landlord-set rent."),
]


@dataclass
class FlagHit:
    """A matched flag clause: type, global span and the rule that fired."""

    rule: FlagRule
    start: int
    end: int


def _holdover_ok(dt: DocText, start: int, end: int) -> bool:
    text = dt.text[start:end]
    pct = [float(p) for p in re.findall(r"(\d{2,3})\s*%", text)]
    if pct and max(pct) < 150:
        return False
    if re.search(r"(?:one\s+hundred\s+twenty|125|110|115)", text, re.I) and not re.search(r"times|[2-9]\d\d\s*%|1[5-9]\d\s*%", text):
        return False
    return True


def find_flags(dt: DocText) -> list[FlagHit]:
    """Every risk clause found, one hit per type (the first), benign versions rejected."""
    out: dict[str, FlagHit] = {}
    for rule in RULES:
        if rule.type in out:
            continue
        for m in re.finditer(rule.pattern, dt.text, re.I):
            s, e = dt.sentence_bounds(m.start(), 500)
            sentence = dt.text[s:max(e, m.end())]
            if rule.unless and re.search(rule.unless, sentence, re.I):
                continue
            if rule.type == "holdover_penalty" and not _holdover_ok(dt, m.start(), m.end()):
                continue
            if rule.type == "excessive_service_charges":
                pct = parse_percent(m.group(0))
                if pct is not None and pct < 10 and "without limit" not in m.group(0).lower():
                    continue
            out[rule.type] = FlagHit(rule, m.start(), m.end())
            break
    if "uncapped_operating_expenses" not in out:
        hit = _pass_through_without_cap(dt)
        if hit is not None:
            out[hit.rule.type] = hit
    return list(out.values())


_PASS_THROUGH = re.compile(
    rf"{TT}'?s?\s+(?:proportionate\s+|pro\s+rata\s+)?share\s+of\s+(?:the\s+)?(?:operating\s+(?:expenses|costs)|"
    r"common\s+area\s+(?:maintenance\s+)?(?:charges|costs|expenses)|service\s+charge|total\s+expenditure)"
    r"|(?:fair|proper|reasonable)\s+(?:and\s+\w+\s+)?proportion\s+of\s+the\s+(?:\w+\s+)?(?:expenditure|costs?|expenses|service\s+charge)"
    rf"|{TT}\s+shall\s+pay[^.]{{0,40}}?(?:increase|excess)[^.]{{0,40}}?operating\s+"
    r"(?:expenses|costs)\s+over", re.I)
_CAP = re.compile(r"\bcap(?:ped|s)?\b(?!ital)|shall\s+not\s+(?:increase|exceed)\s+(?:by\s+)?more\s+than|"
                  r"(?:increase|exceed)\w*\s+(?:by\s+)?(?:more\s+than|in\s+excess\s+of)\s+[\w\s()]{0,25}?(?:percent|%)|"
                  r"maximum\s+(?:annual\s+)?increase", re.I)
_PASS_THROUGH_RULE = FlagRule("uncapped_operating_expenses", "", "high",
                              "Tenant pays a share of operating expenses or service charge and no cap is stated.",
                              confidence=0.6)


def _pass_through_without_cap(dt: DocText) -> FlagHit | None:
    """A pass-through of operating costs to the tenant in a lease that caps them nowhere."""
    m = _PASS_THROUGH.search(dt.text)
    if m is None:
        return None
    for c in _CAP.finditer(dt.text):
        around = dt.text[max(0, c.start() - 300):c.end() + 300]
        if re.search(r"operating|expense|service\s+charge|common\s+area|cam\b", around, re.I):
            return None
    return FlagHit(_PASS_THROUGH_RULE, m.start(), m.end())
