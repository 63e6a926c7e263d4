"""Amendments: link an amendment to the lease it amends (same organisation) and consolidate the current terms."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from pipeline.domain.errors import NotFound
from pipeline.domain.model import (FIELD_NAMES, Citation, Document, Extraction, FieldStatus, FieldValue,
                                   RentPeriod)
from pipeline.extract.places import CA_PROVINCES, US_STATES
from pipeline.parse.model import parsed_from_bytes
from pipeline.ports import BlobStore

try:  # the extraction helper owns these; linking still works on fields alone without them
    from pipeline.extract.normalise import find_dates, months_between
except ImportError:  # pragma: no cover - depends on another package being present
    find_dates = None  # type: ignore[assignment]
    months_between = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LINK_THRESHOLD = 4.0
_TEXT_LIMIT = 12000  # recitals and the lease's own date sit near the start

# --------------------------------------------------------------------------- normalisation

_LEGAL_SUFFIXES = {
    "llc", "l", "c", "inc", "incorporated", "corp", "corporation", "co", "company", "lp", "llp", "lllp", "ltd",
    "limited", "plc", "pllc", "pc", "pty", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "ulc", "the",
    "partnership", "liability", "a", "an", "of",
}
_STREET_ABBR = {
    "street": "st", "avenue": "ave", "av": "ave", "boulevard": "blvd", "road": "rd", "drive": "dr", "lane": "ln",
    "court": "ct", "place": "pl", "parkway": "pkwy", "highway": "hwy", "suite": "ste", "square": "sq",
    "terrace": "ter", "circle": "cir", "way": "way", "north": "n", "south": "s", "east": "e", "west": "w",
    "floor": "fl", "building": "bldg", "unit": "unit", "center": "ctr", "centre": "ctr", "trail": "trl",
}
_STATES = {name.lower(): abbr.lower() for abbr, name in {**US_STATES, **CA_PROVINCES}.items()}
_STATE_RE = re.compile(r"\b(" + "|".join(sorted(_STATES, key=len, reverse=True)) + r")\b")
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9, "tenth": 10}


def normalise_party(name: str | None) -> str:
    """A party name compared loosely: lower case, no punctuation, no legal-form words."""
    if not name:
        return ""
    s = re.sub(r"&", " and ", name.lower())
    s = re.sub(r",?\s+an?\s+[a-z ]*?(?:corporation|company|partnership|trust|association)\b.*$", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    return " ".join(w for w in s.split() if w not in _LEGAL_SUFFIXES)


def party_similarity(a: str | None, b: str | None) -> float:
    """1.0 for the same party (after normalisation), else the Jaccard overlap of their words."""
    na, nb = normalise_party(a), normalise_party(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ta, tb = set(na.split()), set(nb.split())
    return len(ta & tb) / len(ta | tb)


def address_tokens(address: str | None) -> list[str]:
    """Street-address words in a canonical spelling (abbreviations, state codes, no punctuation)."""
    if not address:
        return []
    s = _STATE_RE.sub(lambda m: _STATES[m.group(1)], address.lower())
    s = re.sub(r"[^\w\s]", " ", s)
    return [_STREET_ABBR.get(w, w) for w in s.split()]


def premises_similarity(a: str | None, b: str | None) -> float:
    """Share of the shorter address's words found in the other; 0 when the street numbers differ."""
    ta, tb = address_tokens(a), address_tokens(b)
    if not ta or not tb:
        return 0.0
    na = next((w for w in ta if w.isdigit()), None)
    nb = next((w for w in tb if w.isdigit()), None)
    if na and nb and na != nb:
        return 0.0
    sa, sb = set(ta), set(tb)
    return len(sa & sb) / min(len(sa), len(sb))


def normalise_suite(suite: Any) -> str:
    """'Suite 400' / '400' / 'ste. 400' all compare as '400'."""
    if suite is None:
        return ""
    s = re.sub(r"\b(?:suite|ste|unit|floor|fl|no|number)\b\.?", " ", str(suite).lower())
    return re.sub(r"[^\w]", "", s)


# --------------------------------------------------------------------------- dates stated in the text

# "lease dated <date>", not "Lease\n\nDated <date>" (a title) nor "Lease, as amended by an Amendment dated <date>"
_LEASE_DATED = re.compile(r"(?<!this )\b(?:lease|agreement|tenancy)\b(?:(?!amend|\n\s*\n)[^.;]){0,90}?\bdated\s+"
                          r"(?:as\s+of\s+)?(?:the\s+)?$", re.I)
_PRIOR_AMENDMENT = re.compile(r"amended\s+by[^.;]{0,80}$", re.I)
_OWN_DATE = re.compile(r"(?:date\s+of\s+(?:this\s+)?(?:lease|agreement)|effective\s+date|lease\s+date|"
                       r"\bdated(?:\s+as\s+of)?|made(?:\s+and\s+entered\s+into)?(?:\s+(?:as\s+of|this|on))?|"
                       r"entered\s+into(?:\s+(?:as\s+of|this|on))?)\s*[:\-]?\s*(?:the\s+)?$", re.I)
_OLD_EXPIRY = re.compile(r"(?:scheduled\s+to\s+expire|currently\s+expires?|expire[sd]?)\s+(?:on\s+)?(?:the\s+)?$", re.I)
_COMMENCED = re.compile(r"commenced\s+(?:on\s+)?(?:the\s+)?$", re.I)


def _dates_after(text: str, cue: re.Pattern[str], window: int = 110,
                 unless: re.Pattern[str] | None = None) -> list[date]:
    """Dates (read month-first and day-first) whose preceding words match cue (and not unless), in text order."""
    if find_dates is None:
        return []
    out: list[date] = []
    for day_first in (False, True):
        for d, s, _ in find_dates(text, day_first):
            pre = text[max(0, s - window):s]
            if cue.search(pre) and not (unless and unless.search(pre)) and d not in out:
                out.append(d)
    return out


@dataclass
class _TextFacts:
    """What the opening text says about dates: the referenced lease date, the document's own date, recitals."""

    referenced_lease_dates: list[date] = field(default_factory=list)
    own_dates: list[date] = field(default_factory=list)
    old_expiration: list[date] = field(default_factory=list)
    commenced: list[date] = field(default_factory=list)
    ordinal: int | None = None
    text: str = ""


def text_facts(text: str) -> _TextFacts:
    """Read the dates and ordinal an amendment or lease states about itself and the lease it refers to."""
    head = text[:_TEXT_LIMIT]
    referenced = _dates_after(head, _LEASE_DATED)
    own = [d for d in _dates_after(head[:3000], _OWN_DATE, unless=_PRIOR_AMENDMENT) if d not in referenced]
    m = re.search(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+)(?:st|nd|rd|th)?\s+"
                  r"(?:amendment|modification|extension)", head[:400], re.I)
    ordinal = None
    if m:
        word = m.group(1).lower()
        ordinal = int(word) if word.isdigit() else _ORDINAL_WORDS.get(word)
    return _TextFacts(referenced_lease_dates=referenced, own_dates=own,
                      old_expiration=_dates_after(head, _OLD_EXPIRY), commenced=_dates_after(head, _COMMENCED),
                      ordinal=ordinal, text=head)


def _document_text(doc: Document, blobs: BlobStore | None) -> str:
    """The stored parse's text (empty when there is no blob store or no stored parse)."""
    if blobs is None or not doc.parsed_key:
        return ""
    try:
        if not blobs.exists(doc.parsed_key):
            return ""
        return parsed_from_bytes(blobs.get(doc.parsed_key)).text
    except (OSError, ValueError) as exc:
        log.warning("stored parse unreadable", extra={"document_id": doc.id, "error": str(exc)})
        return ""


# --------------------------------------------------------------------------- scoring

def _value(ext: Extraction, name: str) -> Any:
    fv = ext.result.field(name)
    return fv.value if fv.status != FieldStatus.NOT_FOUND else None


def _iso(v: Any) -> date | None:
    try:
        return date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def match_score(amendment: Extraction, amend_facts: _TextFacts, lease: Extraction,
                lease_facts: _TextFacts | None) -> tuple[float, dict[str, float]]:
    """How well a lease fits an amendment: parties, premises, referenced date, recited dates."""
    parts: dict[str, float] = {}
    tenant = party_similarity(_value(amendment, "tenant"), _value(lease, "tenant"))
    landlord = party_similarity(_value(amendment, "landlord"), _value(lease, "landlord"))
    amend_text = normalise_party(amend_facts.text) if amend_facts.text else ""
    lease_landlord, lease_tenant = normalise_party(_value(lease, "landlord")), normalise_party(_value(lease, "tenant"))
    if landlord < 1.0 and lease_landlord and f" {lease_landlord} " in f" {amend_text} ":
        landlord = 1.0  # a successor landlord's amendment names the original landlord in its recitals
    if tenant < 1.0 and lease_tenant and f" {lease_tenant} " in f" {amend_text} ":
        tenant = 1.0  # an assignment names the original tenant (assignor) in its recitals
    parts["tenant"] = 3.0 * tenant if tenant >= 0.6 else 0.0
    if tenant < 0.3 and lease_tenant and normalise_party(_value(amendment, "tenant")):
        parts["tenant"] = -2.0  # another tenant in the same building is another lease
    parts["landlord"] = 2.0 * landlord if landlord >= 0.6 else 0.0

    premises = premises_similarity(_value(amendment, "premises_address"), _value(lease, "premises_address"))
    parts["premises"] = 2.5 * premises if premises >= 0.5 else 0.0
    sa, sl = normalise_suite(_value(amendment, "suite")), normalise_suite(_value(lease, "suite"))
    if sa and sl:
        parts["suite"] = 1.0 if sa == sl else -2.0

    if amend_facts.referenced_lease_dates and lease_facts is not None and lease_facts.own_dates:
        same = set(amend_facts.referenced_lease_dates) & set(lease_facts.own_dates)
        parts["lease_date"] = 2.5 if same else -1.5
    lease_exp, lease_start = _iso(_value(lease, "expiration_date")), _iso(_value(lease, "commencement_date"))
    if lease_exp and lease_exp in amend_facts.old_expiration:
        parts["recited_expiration"] = 1.0
    if lease_start and lease_start in amend_facts.commenced:
        parts["recited_commencement"] = 1.0
    area_a, area_l = _value(amendment, "leased_area_sqft"), _value(lease, "leased_area_sqft")
    if area_a and area_l and float(area_a) == float(area_l):
        parts["area"] = 0.5
    return sum(parts.values()), parts


def _qualifies(parts: dict[str, float], score: float) -> bool:
    """Enough to link: a party plus a premises or date match, and the total above the threshold."""
    party = parts.get("tenant", 0) > 0 or parts.get("landlord", 0) > 0
    place_or_date = parts.get("premises", 0) > 0 or parts.get("lease_date", 0) > 0
    return party and place_or_date and parts.get("tenant", 0) + parts.get("landlord", 0) >= 2.0 \
        and score >= LINK_THRESHOLD


# --------------------------------------------------------------------------- linking

def _org_documents(uow: Any, org_id: str) -> list[Document]:
    out: list[Document] = []
    offset = 0
    while True:
        page = uow.documents.list(org_id, limit=500, offset=offset)
        out.extend(page)
        if len(page) < 500:
            return out
        offset += 500


def link_amendment(org_id: str, doc_id: str, *, uow_factory: Callable,
                   blobs: BlobStore | None = None) -> str | None:
    """Link an amendment to the best-matching lease of the same organisation; returns the lease id or None."""
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        ext = uow.extractions.latest(org_id, doc_id)
        if ext is None or ext.result.kind != "amendment":
            return None
        latest = {e.document_id: e for e in uow.extractions.list_latest(org_id)}
        docs = {d.id: d for d in _org_documents(uow, org_id)}
    amend_facts = text_facts(_document_text(doc, blobs))
    ranked: list[tuple[float, int, datetime, str, dict[str, float]]] = []
    for lease_id, lease_ext in latest.items():
        if lease_id == doc_id or lease_ext.result.kind != "lease" or lease_id not in docs:
            continue
        score, parts = match_score(ext, amend_facts, lease_ext, None)
        if score + 2.5 < LINK_THRESHOLD:
            continue  # not even a matching lease date could lift it; skip reading its text
        lease_facts = text_facts(_document_text(docs[lease_id], blobs)) if amend_facts.referenced_lease_dates else None
        score, parts = match_score(ext, amend_facts, lease_ext, lease_facts)
        if _qualifies(parts, score):
            ranked.append((score, 1 if parts.get("lease_date", 0) > 0 else 0, docs[lease_id].created_at, lease_id,
                           parts))
    ranked.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    target = ranked[0][3] if ranked else None
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        log.warning("amendment matches several leases equally; choosing the latest upload",
                    extra={"document_id": doc_id, "candidates": [r[3] for r in ranked[:3]]})
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        if doc.amends_document_id != target and (target is not None or doc.amends_document_id is None):
            doc.amends_document_id = target
            uow.documents.update(doc)
            uow.commit()
        elif target is None:
            target = doc.amends_document_id  # keep an earlier link rather than forget it
    log.info("amendment linked" if target else "amendment not linked",
             extra={"document_id": doc_id, "amends_document_id": target,
                    "score": ranked[0][0] if ranked else None, "parts": ranked[0][4] if ranked else None})
    return target


def link_pending_amendments(org_id: str, *, uow_factory: Callable, blobs: BlobStore | None = None) -> list[str]:
    """Try again to link every amendment of the organisation that has no lease yet; returns the newly linked ids."""
    with uow_factory() as uow:
        pending = [d.id for d in _org_documents(uow, org_id) if d.amends_document_id is None]
        amendments = [i for i in pending
                      if (e := uow.extractions.latest(org_id, i)) is not None and e.result.kind == "amendment"]
    return [i for i in amendments if link_amendment(org_id, i, uow_factory=uow_factory, blobs=blobs)]


def link_after_extraction(org_id: str, doc_id: str, *, uow_factory: Callable,
                          blobs: BlobStore | None = None) -> None:
    """After a new extraction: an amendment looks for its lease; a lease adopts amendments that were waiting."""
    with uow_factory() as uow:
        ext = uow.extractions.latest(org_id, doc_id)
    if ext is None:
        return
    if ext.result.kind == "amendment":
        link_amendment(org_id, doc_id, uow_factory=uow_factory, blobs=blobs)
    elif ext.result.kind == "lease":
        link_pending_amendments(org_id, uow_factory=uow_factory, blobs=blobs)


# --------------------------------------------------------------------------- consolidation

def _cite(citations: Iterable[Citation], document_id: str) -> list[dict[str, Any]]:
    return [Citation(page=c.page, start=c.start, end=c.end, quote=c.quote, bbox=c.bbox,
                     document_id=document_id).to_dict() for c in citations]


def _field_entry(fv: FieldValue, document_id: str) -> dict[str, Any]:
    d = fv.to_dict()
    d["citations"] = _cite(fv.citations, document_id)
    d["document_id"] = document_id if fv.status != FieldStatus.NOT_FOUND else None
    return d


def _period(p: RentPeriod, document_id: str) -> dict[str, Any]:
    d = p.to_dict()
    d["citations"] = _cite(p.citations, document_id)
    d["document_id"] = document_id
    return d


def _merge_schedule(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An amendment's schedule replaces the current one from its first start date on (all of it when undated)."""
    if not new:
        return current
    first = min((p["start"] for p in new if p.get("start")), default=None)
    if first is None:
        return new
    kept = [p for p in current if p.get("start") and p["start"] < first]
    for p in kept:
        if p.get("end") and p["end"] >= first:
            p["end"] = date.fromordinal(date.fromisoformat(first).toordinal() - 1).isoformat()
    return kept + new


def _extension_period(aext: Extraction, document_id: str,
                      expiration_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An extension that states a new rent but no schedule: that rent runs from the old to the new expiration."""
    rent, exp = aext.result.field("base_rent_monthly"), aext.result.field("expiration_date")
    if rent.status != FieldStatus.FOUND or exp.status != FieldStatus.FOUND or not expiration_history:
        return []
    last = expiration_history[-1]
    old_end, new_end = _iso(last["value"]), _iso(exp.value)
    if last["document_id"] == document_id or old_end is None or new_end is None or new_end <= old_end:
        return []
    start = date.fromordinal(old_end.toordinal() + 1).isoformat()
    return [{"start": start, "end": new_end.isoformat(), "monthly_rent": float(rent.value), "annual_psf": None,
             "citations": _cite(list(rent.citations) + list(exp.citations), document_id),
             "document_id": document_id, "derived": True}]


def _amendment_order(doc: Document, facts: _TextFacts) -> tuple[date, int, datetime]:
    effective = facts.own_dates[0] if facts.own_dates else None
    return (effective or doc.created_at.date(), facts.ordinal or 0, doc.created_at)


def consolidated_terms(org_id: str, doc_id: str, *, uow_factory: Callable,
                       blobs: BlobStore | None = None) -> dict[str, Any]:
    """The current terms of a lease: its fields overridden, in order, by each linked amendment, each value cited."""
    with uow_factory() as uow:
        doc = uow.documents.get(org_id, doc_id)
        base = doc
        if doc.amends_document_id:
            try:
                base = uow.documents.get(org_id, doc.amends_document_id)
            except NotFound:
                base = doc
        base_ext = uow.extractions.latest(org_id, base.id)
        if base_ext is None:
            raise NotFound(f"document {base.id} has no extraction yet (status: {base.status.value})",
                           code="extraction_not_ready")
        linked = [d for d in _org_documents(uow, org_id) if d.amends_document_id == base.id and d.id != base.id]
        amend_exts = [(d, e) for d in linked if (e := uow.extractions.latest(org_id, d.id)) is not None]

    role = "base_lease" if base_ext.result.kind == "lease" else base_ext.result.kind
    ordered = sorted(((d, e, text_facts(_document_text(d, blobs))) for d, e in amend_exts),
                     key=lambda t: _amendment_order(t[0], t[2]))
    sources: list[dict[str, Any]] = [{"document_id": base.id, "filename": base.filename,
                                      "kind": base_ext.result.kind, "role": role, "order": 0,
                                      "version": base_ext.version, "effective_date": None}]
    fields: dict[str, dict[str, Any]] = {}
    history: dict[str, list[dict[str, Any]]] = {}
    names = list(FIELD_NAMES) + [n for n in base_ext.result.fields if n not in FIELD_NAMES]
    for name in names:
        fields[name] = _field_entry(base_ext.result.field(name), base.id)
        history[name] = []
    schedule = [_period(p, base.id) for p in base_ext.result.rent_schedule]
    flags = [{**f.to_dict(), "citations": _cite(f.citations, base.id), "document_id": base.id}
             for f in base_ext.result.risk_flags]

    for order, (adoc, aext, facts) in enumerate(ordered, start=1):
        sources.append({"document_id": adoc.id, "filename": adoc.filename, "kind": aext.result.kind,
                        "role": "amendment", "order": order, "version": aext.version,
                        "effective_date": facts.own_dates[0].isoformat() if facts.own_dates else None})
        for name, fv in aext.result.fields.items():
            if fv.status != FieldStatus.FOUND or fv.value is None:
                continue  # only what the amendment clearly states changes the terms
            prev = fields.get(name)
            if prev is not None and prev["status"] != FieldStatus.NOT_FOUND.value:
                history.setdefault(name, []).append(
                    {"value": prev["value"], "document_id": prev["document_id"], "citations": prev["citations"]})
            fields[name] = _field_entry(fv, adoc.id)
        new_periods = [_period(p, adoc.id) for p in aext.result.rent_schedule]
        if not new_periods:
            new_periods = _extension_period(aext, adoc.id, history.get("expiration_date", []))
        schedule = _merge_schedule(schedule, new_periods)
        flags.extend({**f.to_dict(), "citations": _cite(f.citations, adoc.id), "document_id": adoc.id}
                     for f in aext.result.risk_flags)

    _derive_term(fields, history)
    for name, entries in history.items():
        if name in fields:
            fields[name]["history"] = entries
    return {"document_id": base.id, "requested_document_id": doc_id, "kind": base_ext.result.kind,
            "amendment_count": len(ordered),
            "fields": fields, "rent_schedule": schedule, "risk_flags": flags, "sources": sources,
            "history": {k: v for k, v in history.items() if v}}


def _derive_term(fields: dict[str, dict[str, Any]], history: dict[str, list[dict[str, Any]]]) -> None:
    """When an amendment moved the expiration, the total term follows from commencement to the new expiration."""
    exp, start, term = fields.get("expiration_date"), fields.get("commencement_date"), fields.get("term_months")
    if months_between is None or not exp or not start or not term or exp["document_id"] in (None, start["document_id"]):
        return
    s, e = _iso(start["value"]), _iso(exp["value"])
    if s is None or e is None or e <= s:
        return
    months = months_between(s, e)
    if term["value"] == months:
        return
    if term["status"] != FieldStatus.NOT_FOUND.value:
        history.setdefault("term_months", []).append(
            {"value": term["value"], "document_id": term["document_id"], "citations": term["citations"]})
    fields["term_months"] = {"value": months, "raw": None,
                             "confidence": round(min(float(exp["confidence"]), float(start["confidence"])), 4),
                             "status": FieldStatus.FOUND.value, "derived": True,
                             "citations": start["citations"] + exp["citations"], "document_id": exp["document_id"]}
