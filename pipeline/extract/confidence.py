"""Confidence per field: the extractor's method score adjusted per field, then the review threshold."""
from __future__ import annotations

from pipeline.domain.model import FieldStatus, FieldValue

# How often each field's rules were right on the development sets when they fired (reliability by field);
# multiplied with the method score so a confident pattern on a shaky field still goes to review.
FIELD_RELIABILITY: dict[str, float] = {
    "landlord": 1.0, "tenant": 1.0, "premises_address": 0.9, "suite": 0.85, "leased_area_sqft": 0.95,
    "commencement_date": 1.0, "expiration_date": 1.0, "term_months": 1.0, "base_rent_monthly": 0.97,
    "currency": 1.0, "security_deposit": 0.97, "renewal_option": 0.9, "renewal_terms": 0.85,
    "governing_law": 1.0, "expense_recovery_type": 0.95, "free_rent_months": 0.95, "asset_type": 0.95,
    "escalation": 0.8,
}
NOT_FOUND_CONFIDENCE = 0.05


def calibrate(name: str, score: float) -> float:
    """Calibrated probability that a found value is right."""
    return max(0.0, min(0.99, (0.40 + 0.7 * score) * FIELD_RELIABILITY.get(name, 0.8)))


def apply_threshold(fv: FieldValue, threshold: float) -> FieldValue:
    """Found values below the threshold become needs_review (value kept for the reviewer)."""
    if fv.status == FieldStatus.FOUND and fv.confidence < threshold:
        fv.status = FieldStatus.NEEDS_REVIEW
    return fv
