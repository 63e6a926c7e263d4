"""Confidence per field: the extractor's raw score through the fitted calibration map, then the review threshold."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from pipeline.domain.model import FieldStatus, FieldValue
from pipeline.extract.calibration import shipped_map

NOT_FOUND_CONFIDENCE = 0.05

# True while `atlas calibrate` / `atlas eval --cv` collect raw scores to fit on (per thread / task)
_RAW_SCORES: ContextVar[bool] = ContextVar("atlas_raw_scores", default=False)


@contextmanager
def raw_scores() -> Iterator[None]:
    """Within this block calibrate() returns the raw score (clipped to [0, 1]) instead of the fitted probability."""
    token = _RAW_SCORES.set(True)
    try:
        yield
    finally:
        _RAW_SCORES.reset(token)


def calibrate(name: str, score: float) -> float:
    """Calibrated probability that a found value of field `name` with this raw score is right."""
    if _RAW_SCORES.get():
        return min(1.0, max(0.0, float(score)))
    return shipped_map().predict(name, float(score))


def apply_threshold(fv: FieldValue, threshold: float) -> FieldValue:
    """Found values below the threshold become needs_review (value kept for the reviewer)."""
    if fv.status == FieldStatus.FOUND and fv.confidence < threshold:
        fv.status = FieldStatus.NEEDS_REVIEW
    return fv
