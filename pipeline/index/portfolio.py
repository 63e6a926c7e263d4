"""Portfolio questions over structured extractions: filter and sort leases by date, rent and risk flags."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Sequence

from pipeline.domain.model import ExtractionResult
from pipeline.index.conditions import Condition, amount, expires, flag_condition

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


def lease_conditions(*, expires_before: date | str | None = None, expires_after: date | str | None = None,
                     min_rent: float | None = None, max_rent: float | None = None,
                     flag: str | Sequence[str] | None = None) -> list[Condition]:
    """The /v1/leases query parameters as conditions (the same ones portfolio questions are parsed into)."""
    before, after = _as_date(expires_before), _as_date(expires_after)
    out = []
    if before is not None:
        out.append(expires("<", before, allow_review=True))
    if after is not None:
        out.append(expires(">", after, allow_review=True))
    if min_rent is not None:
        out.append(amount("base_rent_monthly", ">=", min_rent, allow_review=True))
    if max_rent is not None:
        out.append(amount("base_rent_monthly", "<=", max_rent, allow_review=True))
    out += [flag_condition(f) for f in ([flag] if isinstance(flag, str) else list(flag or ()))]
    return out


def filter_leases(rows: Iterable[tuple[Any, ExtractionResult]], *, expires_before: date | str | None = None,
                  expires_after: date | str | None = None, min_rent: float | None = None,
                  max_rent: float | None = None, flag: str | Sequence[str] | None = None,
                  conditions: Sequence[Condition] = (), sort: str = "expiration_date",
                  descending: bool = False) -> list[tuple[Any, ExtractionResult]]:
    """Leases (document, extraction) meeting every given condition, sorted (missing values last)."""
    tests = lease_conditions(expires_before=expires_before, expires_after=expires_after, min_rent=min_rent,
                             max_rent=max_rent, flag=flag) + list(conditions)
    sort_key = sort.lstrip("-")
    if sort.startswith("-"):
        descending = True
    if sort_key not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}")
    kept = [(doc, result) for doc, result in rows
            if result.kind != "not_a_lease" and all(c.test(result) is True for c in tests)]

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
