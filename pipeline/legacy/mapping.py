"""Domain → legacy response shapes: LeaseSummary, legacy risk flags, citations as sourceData.field_metadata."""
from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.domain.model import Citation, Extraction, ExtractionResult, FieldValue, RentPeriod, RiskFlag

LEGACY_ASSET_TYPES = ("office", "retail", "industrial", "multifamily", "hospitality", "healthcare", "mixed_use")
ACCEPTED_ASSET_TYPES = LEGACY_ASSET_TYPES + ("other",)  # the app's picker offers "other" too
_ASSET_FROM_DOMAIN = {"medical": "healthcare", "land": "other"}

# legacy section → legacy field → domain field
SUMMARY_FIELDS: dict[str, dict[str, str]] = {
    "property_info": {"property_address": "premises_address", "landlord_name": "landlord"},
    "tenant_info": {"tenant": "tenant", "suite_number": "suite", "leased_sqft": "leased_area_sqft"},
    "lease_dates": {"lease_commencement_date": "commencement_date", "lease_expiration_date": "expiration_date",
                    "lease_term": "term_months"},
    "financial_terms": {"base_rent": "base_rent_monthly", "security_deposit": "security_deposit",
                        "rent_escalations": "escalation", "expense_recovery_type": "expense_recovery_type",
                        "renewal_options": "renewal_terms", "free_rent_months": "free_rent_months"},
}

_EXPENSE_RECOVERY = {"nnn": "Net", "net": "Net", "gross": "Gross", "modified_gross": "Gross",
                     "base_year": "Stop Amount"}

FINANCIAL = "Financial Exposure & Cost Uncertainty"
OPERATIONAL = "Operational Constraints & Legal Risks"
INSURANCE = "Insurance & Liability"
TERM = "Lease Term & Renewal"
MISC = "Miscellaneous"

# domain risk flag type → (legacy title, legacy category)
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "early_termination": ("Early Termination Clauses", TERM),
    "uncapped_operating_expenses": ("Uncapped or Vague Operating Expenses", FINANCIAL),
    "ambiguous_maintenance": ("Ambiguous Maintenance and Upgrade Obligations", OPERATIONAL),
    "excessive_service_charges": ("Excessive Service Charges Without Transparency or Caps", FINANCIAL),
    "hidden_fees": ("Hidden Fees", FINANCIAL),
    "restrictive_use": ("Restrictive Use Clauses", OPERATIONAL),
    "non_compete": ("Do Not Compete Clauses", OPERATIONAL),
    "ambiguous_language": ("Ambiguous or Vague Language", MISC),
    "landlord_termination_right": ("Landlord's Right to Terminate", TERM),
    "tenant_insurance_burden": ("Tenant Insurance Requirements", INSURANCE),
    "broad_indemnification": ("Indemnification Clauses", INSURANCE),
    "unfavorable_renewal": ("Unfavorable Renewal Terms", TERM),
    "holdover_penalty": ("Holdover Penalties", TERM),
    "sublease_restriction": ("Sublease Restrictions", OPERATIONAL),
    "assignment_restriction": ("Assignment Clauses", OPERATIONAL),
}


def _text(fv: FieldValue) -> str:
    """A string field as the app expects it: empty string when not stated."""
    return "" if fv.value is None else str(fv.value)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    n = _number(value)
    return None if n is None else int(round(n))


def _iso_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def lease_term_words(months: Any) -> str:
    """60 → "5 years", 18 → "1 year 6 months", None → ""."""
    n = _int(months)
    if n is None or n <= 0:
        return ""
    years, rest = divmod(n, 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if rest:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _duration(start: str | None, end: str | None) -> dict[str, int]:
    """Whole years/months/days from start to the day after end (a period's inclusive length)."""
    s, e = _iso_date(start), _iso_date(end)
    if not s or not e:
        return {"years": 0, "months": 0, "days": 0}
    d0, d1 = date.fromisoformat(s), date.fromordinal(date.fromisoformat(e).toordinal() + 1)
    months = (d1.year - d0.year) * 12 + d1.month - d0.month
    days = d1.day - d0.day
    if days < 0:
        months -= 1
        anchor_month = d0.month + months
        anchor = date(d0.year + (anchor_month - 1) // 12, (anchor_month - 1) % 12 + 1, 1)
        days = (d1 - anchor).days - (d0.day - 1)
    years, months = divmod(max(months, 0), 12)
    return {"years": years, "months": months, "days": max(days, 0)}


def rent_schedule_entry(period: RentPeriod) -> dict[str, Any]:
    """One legacy RentScheduleEntry from a domain rent period."""
    return {"start_date": _iso_date(period.start), "duration": _duration(period.start, period.end),
            "rent_type": "base", "units": "USD/month", "amount": float(period.monthly_rent),
            "review_type": "fixed", "uplift": None, "adjust_expense_stops": False, "stop_year": None}


def lease_summary(result: ExtractionResult) -> dict[str, Any]:
    """The LeaseSummary the app's mapToExtractedData reads (every section present, field names exact)."""
    f = result.field
    suite = f("suite").value
    renewal = f("renewal_terms").value
    if renewal is None and f("renewal_option").value is not None:
        renewal = "Renewal option available" if f("renewal_option").value else "No renewal option"
    recovery = f("expense_recovery_type").value
    schedule = [rent_schedule_entry(p) for p in result.rent_schedule]
    return {
        "property_info": {"property_address": _text(f("premises_address")), "landlord_name": _text(f("landlord"))},
        "tenant_info": {"tenant": _text(f("tenant")), "suite_number": str(suite) if suite else "N/A",
                        "leased_sqft": _number(f("leased_area_sqft").value)},
        "lease_dates": {"lease_commencement_date": _iso_date(f("commencement_date").value),
                        "lease_expiration_date": _iso_date(f("expiration_date").value),
                        "lease_term": lease_term_words(f("term_months").value)},
        "financial_terms": {
            "base_rent": _number(f("base_rent_monthly").value),
            "security_deposit": _number(f("security_deposit").value),
            "rent_escalations": {"rent_schedule": schedule} if schedule else None,
            "expense_recovery_type": _EXPENSE_RECOVERY.get(str(recovery).lower()) if recovery else None,
            "renewal_options": None if renewal is None else str(renewal),
            "free_rent_months": _int(f("free_rent_months").value),
        },
        "party_info": {"tenant": _text(f("tenant")), "landlord": _text(f("landlord"))},
    }


def legacy_citation(c: Citation) -> dict[str, Any]:
    """{page, matching_text, position?} from a domain citation."""
    out: dict[str, Any] = {"page": c.page, "matching_text": c.quote}
    if c.bbox is not None:
        x0, y0, x1, y1 = c.bbox
        out["position"] = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}
    return out


def _field_metadata_entry(fv: FieldValue) -> dict[str, Any]:
    return {"citation": [legacy_citation(c) for c in fv.citations],
            "reasoning": f"{fv.status.value} (confidence {fv.confidence:.2f})",
            "confidence": round(float(fv.confidence), 4), "status": fv.status.value}


def source_data(extraction: Extraction) -> dict[str, Any]:
    """ExtractionMetadata: field_metadata[section][field] with citations, plus which extraction answered."""
    result = extraction.result
    meta: dict[str, dict[str, Any]] = {}
    for section, fields in SUMMARY_FIELDS.items():
        meta[section] = {legacy: _field_metadata_entry(result.field(domain)) for legacy, domain in fields.items()}
    if result.rent_schedule and any(p.citations for p in result.rent_schedule):
        meta["financial_terms"]["rent_escalations"]["citation"] = [
            legacy_citation(c) for p in result.rent_schedule for c in p.citations[:1]]
    return {"field_metadata": meta, "document_id": extraction.document_id, "extraction_version": extraction.version,
            "extractor": result.extractor, "extractor_version": extraction.extractor_version, "kind": result.kind,
            "warnings": [w.to_dict() for w in result.warnings]}


def legacy_flag(flag: RiskFlag) -> dict[str, Any]:
    """A legacy risk flag: category is always a string (the app lower-cases it)."""
    title, category = FLAG_LABELS.get(flag.type, (flag.type.replace("_", " ").title(), MISC))
    first = flag.citations[0] if flag.citations else None
    return {"category": category, "title": title, "description": flag.explanation or title,
            "severity": flag.severity, "page": first.page if first else 1,
            "matching_text": first.quote if first else "", "type": flag.type,
            "confidence": round(float(flag.confidence), 4)}


def risk_flags_source_data(extraction: Extraction) -> dict[str, Any]:
    """sourceData for risk flags: each flag's citations, keyed like field_metadata."""
    meta = {f"{i}:{flag.type}": {"citation": [legacy_citation(c) for c in flag.citations]}
            for i, flag in enumerate(extraction.result.risk_flags)}
    return {"field_metadata": {"risk_flags": meta}, "document_id": extraction.document_id,
            "extraction_version": extraction.version}


def legacy_asset_type(result: ExtractionResult) -> tuple[str, float]:
    """(asset_type in the legacy list or "other", confidence 0..1)."""
    fv = result.field("asset_type")
    value = str(fv.value).lower() if fv.value else "other"
    value = _ASSET_FROM_DOMAIN.get(value, value)
    if value not in ACCEPTED_ASSET_TYPES:
        value = "other"
    return value, max(0.0, min(1.0, float(fv.confidence)))
