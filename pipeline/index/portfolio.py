"""Portfolio questions over structured extractions: filter and sort leases by date, rent and risk flags."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Sequence

from pipeline.domain.model import ExtractionResult

SORT_KEYS = ("expiration_date", "commencement_date", "base_rent_monthly", "filename")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _as_date(value: date | str | None) -> date | None:
    return None if value is None else _date(value) or _raise(value)


def _raise(value: Any) -> date:
    raise ValueError(f"not an ISO date: {value!r}")


def filter_leases(rows: Iterable[tuple[Any, ExtractionResult]], *, expires_before: date | str | None = None,
                  expires_after: date | str | None = None, min_rent: float | None = None,
                  max_rent: float | None = None, flag: str | Sequence[str] | None = None,
                  sort: str = "expiration_date", descending: bool = False) -> list[tuple[Any, ExtractionResult]]:
    """Leases (document, extraction) matching every given condition, sorted (missing values last)."""
    before, after = _as_date(expires_before), _as_date(expires_after)
    flags = {flag} if isinstance(flag, str) else set(flag or ())
    sort_key = sort.lstrip("-")
    if sort.startswith("-"):
        descending = True
    if sort_key not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}")
    kept = []
    for doc, result in rows:
        if result.kind == "not_a_lease":
            continue
        exp = _date(result.field("expiration_date").value)
        rent = _number(result.field("base_rent_monthly").value)
        if before is not None and (exp is None or exp >= before):
            continue
        if after is not None and (exp is None or exp <= after):
            continue
        if min_rent is not None and (rent is None or rent < min_rent):
            continue
        if max_rent is not None and (rent is None or rent > max_rent):
            continue
        if flags and not flags.issubset({f.type for f in result.risk_flags}):
            continue
        kept.append((doc, result))

    def key(row: tuple[Any, ExtractionResult]) -> Any:
        doc, result = row
        if sort_key == "filename":
            return str(getattr(doc, "filename", doc))
        value = result.field(sort_key).value
        return _date(value) if sort_key.endswith("_date") else _number(value)

    present = [r for r in kept if key(r) is not None]
    missing = [r for r in kept if key(r) is None]
    present.sort(key=key, reverse=descending)
    return present + missing
