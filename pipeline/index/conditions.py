"""Portfolio questions as filters: conditions on extracted fields and risk flags parsed from a question."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from pipeline.domain.model import ASSET_TYPES, ExtractionResult, FieldStatus
from pipeline.extract.places import US_STATES as _STATE_NAMES

US_STATES = {name.lower(): code for code, name in _STATE_NAMES.items()}  # "new york" -> "NY"
COUNTRIES = {"english": "england", "england": "england", "welsh": "wales", "wales": "wales",
             "scottish": "scotland", "scotland": "scotland", "israeli": "israel", "israel": "israel",
             "german": "germany", "germany": "germany", "irish": "ireland", "ireland": "ireland",
             "uk": "england", "british": "england", "delaware": "delaware", "californian": "california"}
_PLACES = sorted(list(US_STATES) + list(COUNTRIES), key=len, reverse=True)
_PLACE = "(" + "|".join(re.escape(p) for p in _PLACES) + ")"
_MONTHS = ("january february march april may june july august september october november december").split()
_DATE = (r"((?:\d{4}-\d{2}-\d{2})|(?:(?:%s)\s+\d{1,2},?\s+\d{4})|(?:\d{1,2}\s+(?:%s),?\s+\d{4})|(?:(?:%s)\s+\d{4})|"
         r"(?:\d{4}))" % ("|".join(_MONTHS), "|".join(_MONTHS), "|".join(_MONTHS)))
_BEFORE = r"(before|by|prior\s+to|earlier\s+than|until|no\s+later\s+than)"
_AFTER = r"(after|past|later\s+than|beyond|following)"
_LESS = r"(under|below|less\s+than|lower\s+than|at\s+most|no\s+more\s+than|up\s+to|cheaper\s+than)"
_MORE = r"(above|over|more\s+than|greater\s+than|exceeding|exceeds?|at\s+least|higher\s+than)"
_AMOUNT = r"(?:[$£€]\s*)?(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|m|million)?\b"
_ASSET_WORDS = {"office": "office", "offices": "office", "retail": "retail", "shop": "retail", "store": "retail",
                "industrial": "industrial", "warehouse": "industrial", "manufacturing": "industrial",
                "multifamily": "multifamily", "residential": "multifamily", "medical": "medical",
                "mixed-use": "mixed_use", "mixed use": "mixed_use", "land": "land", "ground lease": "land"}


@dataclass(frozen=True)
class Condition:
    """One test on a lease's extraction; test returns True, False, or None when it cannot be decided."""

    label: str
    fields: tuple[str, ...]
    test: Callable[[ExtractionResult], bool | None]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _parse_date(text: str, *, end_of_period: bool) -> date | None:
    from dateutil import parser

    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 12, 31) if end_of_period else date(int(text), 1, 1)
    try:
        d = parser.parse(text, default=parser.parse("2000-01-01")).date()
    except (ValueError, OverflowError):
        return None
    if re.fullmatch(r"[a-z]+\s+\d{4}", text.lower()) and end_of_period:  # "March 2020" ends with that month
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return d


def _amount(number: str, scale: str | None) -> float:
    value = float(number.replace(",", ""))
    if scale and scale.lower() in ("k", "thousand"):
        value *= 1_000
    elif scale and scale.lower() in ("m", "million"):
        value *= 1_000_000
    return value


def _value(result: ExtractionResult, name: str) -> tuple[Any, bool]:
    """(value, decidable): a field below the review threshold or not found cannot decide a condition."""
    fv = result.field(name)
    return fv.value, fv.status == FieldStatus.FOUND and fv.value is not None


def _field_test(name: str, predicate: Callable[[Any], bool], *,
                allow_review: bool = False) -> Callable[[ExtractionResult], bool | None]:
    def test(result: ExtractionResult) -> bool | None:
        value, ok = _value(result, name)
        if not ok and allow_review and value is not None:
            ok = result.field(name).status == FieldStatus.NEEDS_REVIEW
        return predicate(value) if ok else None
    return test


_OPS: dict[str, Callable[[Any, Any], bool]] = {"<": lambda a, b: a < b, ">": lambda a, b: a > b,
                                                "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def _numeric(op: str, bound: float) -> Callable[[Any], bool]:
    def pred(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return _OPS[op](v, bound)
    return pred


def _dated(op: str, bound: date) -> Callable[[Any], bool]:
    def pred(value: Any) -> bool:
        d = _date(value)
        return d is not None and _OPS[op](d, bound)
    return pred


def expires(op: str, bound: date, *, allow_review: bool = False) -> Condition:
    """Expiration date before (<) or after (>) a date."""
    word = "before" if op.startswith("<") else "after"
    return Condition(f"expires {word} {bound.isoformat()}", ("expiration_date",),
                     _field_test("expiration_date", _dated(op, bound), allow_review=allow_review))


def amount(name: str, op: str, bound: float, *, allow_review: bool = False) -> Condition:
    """A numeric field (monthly rent, deposit, area) below (<, <=) or above (>, >=) a bound."""
    labels = {"base_rent_monthly": "monthly base rent", "security_deposit": "security deposit",
              "leased_area_sqft": "area (sq ft)"}
    word = "below" if op.startswith("<") else "above"
    return Condition(f"{labels.get(name, name)} {word} {bound:,.0f}", (name,),
                     _field_test(name, _numeric(op, bound), allow_review=allow_review))


def governed_by(place: str) -> Condition:
    """A choice-of-law clause naming a state or country (demonyms accepted: 'English')."""
    place = COUNTRIES.get(place.lower(), place.lower())
    return Condition(f"governed by {place.title()} law", ("governing_law",),
                     _field_test("governing_law", _law_matches(place)))


def asset_type_is(asset: str) -> Condition:
    """The property's asset type."""
    return Condition(f"{asset.replace('_', ' ')} property", ("asset_type",),
                     _field_test("asset_type", lambda v: str(v) == asset))


def renewal_option() -> Condition:
    """A real option to renew or extend."""
    return Condition("a renewal option", ("renewal_option",), _field_test("renewal_option", lambda v: v is True))


def _law_matches(place: str) -> Callable[[Any], bool]:
    def pred(value: Any) -> bool:
        v = str(value)
        return bool(re.search(rf"\b{re.escape(place)}\b", v, re.IGNORECASE)
                    or (place in US_STATES and re.search(rf"\b{US_STATES[place]}\b", v)))
    return pred


def parse_conditions(question: str) -> list[Condition]:
    """Conditions a portfolio question puts on fields: law, dates, amounts, deposit form, asset type, renewal."""
    q = " ".join(question.lower().replace("’", "'").split())
    out: list[Condition] = []
    # governing law / jurisdiction
    m = (re.search(r"(?:governed\s+by|under|subject\s+to|governing\s+law\s+(?:is|of))\s+(?:the\s+)?(?:laws?\s+of\s+"
                   r"(?:the\s+)?(?:state\s+of\s+|commonwealth\s+of\s+)?)?" + _PLACE + r"\b", q)
         or re.search(_PLACE + r"\s+law\b", q))
    if m:
        out.append(governed_by(m.group(1)))
    elif (m := re.search(r"\b(?:located|situated|properties|premises|buildings?|sites?)\s+in\s+" + _PLACE + r"\b", q)):
        place = COUNTRIES.get(m.group(1), m.group(1))
        abbr = US_STATES.get(place)
        out.append(Condition(f"located in {place.title()}", ("premises_address",), _field_test(
            "premises_address", lambda v, p=place, a=abbr: p in str(v).lower() or bool(
                a and re.search(rf"\b{a}\b", str(v))))))
    # expiry / commencement windows
    for verbs, name, label in ((r"(?:expir\w*|end\w*|terminat\w*|run\w*|last\w*)", "expiration_date", "expires"),
                               (r"(?:start\w*|commenc\w*|begin\w*|began|signed|dated)", "commencement_date",
                                "commences")):
        for direction, op in ((_BEFORE, "<"), (_AFTER, ">")):
            m = re.search(verbs + r"(?:\s+\w+){0,2}?\s+(?:on\s+or\s+)?" + direction + r"\s+(?:the\s+end\s+of\s+)?"
                          + _DATE, q)
            if m:
                bound = _parse_date(m.group(2), end_of_period=op == ">")
                if bound is not None and name == "expiration_date":
                    out.append(expires(op, bound))
                elif bound is not None:
                    word = "before" if op == "<" else "after"
                    out.append(Condition(f"{label} {word} {bound.isoformat()}", (name,),
                                         _field_test(name, _dated(op, bound))))
    # amounts: rent, deposit, area
    for noun, name in ((r"rent\w*", "base_rent_monthly"), (r"deposit", "security_deposit"),
                       (r"(?:square\s+feet|sq\.?\s*ft|area|space)", "leased_area_sqft")):
        for direction, op in ((_LESS, "<"), (_MORE, ">")):
            m = (re.search(noun + r"[^?.]{0,30}?\b" + direction + r"\s+" + _AMOUNT, q)
                 or re.search(direction + r"\s+" + _AMOUNT + r"[^?.]{0,20}?" + noun, q))
            if m:
                value = _amount(m.group(2), m.group(3))
                if name == "base_rent_monthly" and re.search(r"\b(?:a|per)\s+year\b|\bannual|\byearly", q):
                    value /= 12
                out.append(amount(name, op, value))
    # deposit form: cash deposit held / no deposit
    if not any(c.fields == ("security_deposit",) for c in out):
        if re.search(r"\b(?:no|without\s+(?:a|any))\s+(?:security\s+|cash\s+)?deposit", q):
            out.append(Condition("no security deposit", ("security_deposit",),
                                 _field_test("security_deposit", lambda v: _numeric("<", 0.005)(v))))
        elif re.search(r"\b(?:cash\s+)?(?:security\s+)?deposit\b", q):
            out.append(Condition("a cash security deposit", ("security_deposit",),
                                 _field_test("security_deposit", _numeric(">", 0.0))))
    # asset type
    for word, asset in _ASSET_WORDS.items():
        if asset in ASSET_TYPES and re.search(rf"\b{word}\b", q):
            out.append(asset_type_is(asset))
            break
    # renewal option
    if re.search(r"\b(?:option|right)s?\s+to\s+(?:renew|extend)|\brenewal\s+(?:option|right)|\bextension\s+option"
                 r"|\bcan\s+(?:be\s+)?renew", q):
        out.append(renewal_option())
    return out


def flag_condition(flag: str) -> Condition:
    """A risk flag being present (absence of a flag means the extractor found no such clause)."""
    return Condition(f"a {flag.replace('_', ' ')} clause", (), lambda r: any(f.type == flag for f in r.risk_flags))
