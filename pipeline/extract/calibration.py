"""Fitted confidence: per-field isotonic maps from the extractor's raw score to the probability a value is right.

A map is fitted on (field, raw score, correct) triples taken from the shared scorer's per-document calibration
items. The pooled curve is an isotonic (pool-adjacent-violators) fit over every field whose blocks are pulled
toward a prior (the overall accuracy, or the raw score read as a probability) by `prior_weight` pseudo-examples;
each field's curve is its own isotonic fit pulled toward the pooled curve the same way. A field seen a handful of
times therefore follows the pooled curve, a sparse block of scores follows the prior, and only well-supported
differences survive. Prior and weight are chosen by leave-one-document-out log-loss. Curves are
stored as (x, y) knots and applied by linear interpolation, so applying a map needs numpy only.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

SHIPPED_PATH = Path(__file__).with_name("calibration.json")
FORMAT_VERSION = 1
ECE_BINS = 10  # the shared scorer's equal-width bins


@dataclass(frozen=True)
class Item:
    """One predicted non-null value: its field, raw score (or confidence) and whether the scorer counted it right."""

    field: str
    score: float
    correct: bool
    doc: str = ""


@dataclass(frozen=True)
class FitParams:
    """How a map is fitted: pseudo-example weight of the prior, what the pooled curve is pulled toward
    ("accuracy": the overall accuracy; "score": the raw score itself, read as a probability), the output range."""

    prior_weight: float = 20.0
    prior: str = "accuracy"
    floor: float = 0.02
    ceiling: float = 0.98

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"prior_weight": self.prior_weight, "prior": self.prior, "floor": self.floor, "ceiling": self.ceiling}


# candidate fits, chosen per fit by leave-one-document-out log-loss
CANDIDATES = tuple(FitParams(prior_weight=k, prior=p)
                   for p in ("accuracy", "score") for k in (5.0, 10.0, 20.0, 40.0, 80.0))


@dataclass(frozen=True)
class Curve:
    """A monotone piecewise-linear map, constant beyond its end knots."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    n: int = 0

    def __call__(self, score: float) -> float:
        """The mapped probability for one raw score."""
        return float(np.interp(score, self.x, self.y))

    def to_dict(self) -> dict[str, Any]:
        """JSON form (rounded knots)."""
        return {"n": self.n, "x": [round(v, 6) for v in self.x], "y": [round(v, 6) for v in self.y]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Curve":
        """Inverse of to_dict; the knots must be sorted, same length, within [0, 1]."""
        x, y = tuple(float(v) for v in d["x"]), tuple(float(v) for v in d["y"])
        if not x or len(x) != len(y) or list(x) != sorted(x) or not all(0.0 <= v <= 1.0 for v in y):
            raise ValueError(f"malformed calibration curve: {d!r}")
        return cls(x, y, int(d.get("n", 0)))


@dataclass
class CalibrationMap:
    """Per-field curves with a pooled fallback, and where they came from."""

    pooled: Curve
    fields: dict[str, Curve] = field(default_factory=dict)
    params: FitParams = field(default_factory=FitParams)
    provenance: dict[str, Any] = field(default_factory=dict)

    def predict(self, name: str, score: float) -> float:
        """Calibrated probability that a value of field `name` with this raw score is right."""
        if not math.isfinite(score):
            score = 0.0
        return self.fields.get(name, self.pooled)(min(1.0, max(0.0, score)))

    def to_dict(self) -> dict[str, Any]:
        """JSON form, provenance first so a reader sees where the numbers came from."""
        return {"format": FORMAT_VERSION,
                "method": ("isotonic regression (PAV) of correctness on the raw score per field, each block shrunk "
                           "toward the pooled curve by prior_weight pseudo-examples; the pooled curve's blocks shrunk "
                           "toward the prior (overall accuracy or the raw score); clipped to [floor, ceiling]"),
                "params": self.params.to_dict(), "provenance": self.provenance,
                "pooled": self.pooled.to_dict(), "fields": {k: v.to_dict() for k, v in sorted(self.fields.items())}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CalibrationMap":
        """Inverse of to_dict."""
        if d.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported calibration format {d.get('format')!r}")
        return cls(pooled=Curve.from_dict(d["pooled"]),
                   fields={k: Curve.from_dict(v) for k, v in d.get("fields", {}).items()},
                   params=FitParams(**d.get("params", {})), provenance=d.get("provenance", {}))

    def save(self, path: Path) -> None:
        """Write the map as indented JSON."""
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "CalibrationMap":
        """Read a map written by save()."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def shipped_map() -> CalibrationMap:
    """The map shipped with the package (fitted by `atlas calibrate`)."""
    return CalibrationMap.load(SHIPPED_PATH)


def pav(x: Sequence[float], y: Sequence[float], w: Sequence[float] | None = None
        ) -> list[tuple[float, float, float, float]]:
    """Pool-adjacent-violators: increasing least-squares fit of y on x as blocks (x_min, x_max, value, weight)."""
    ties: dict[float, list[float]] = defaultdict(lambda: [0.0, 0.0])  # equal x are one point, averaged first
    for i, xi in enumerate(x):
        wi = 1.0 if w is None else float(w[i])
        ties[xi][0] += wi * y[i]
        ties[xi][1] += wi
    blocks: list[list[float]] = []  # [x_min, x_max, weighted sum of y, weight]
    for xi in sorted(ties):
        blocks.append([xi, xi, *ties[xi]])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][3] >= blocks[-1][2] / blocks[-1][3]:
            last = blocks.pop()
            blocks[-1][1] = last[1]
            blocks[-1][2] += last[2]
            blocks[-1][3] += last[3]
    return [(b[0], b[1], b[2] / b[3], b[3]) for b in blocks]


def _shrunk_isotonic(x: Sequence[float], y: Sequence[float], prior: Callable[[float], float], weight: float,
                     params: FitParams) -> Curve:
    """Isotonic fit whose blocks are pulled toward the prior curve by `weight` pseudo-examples, kept increasing."""
    blocks = pav(x, y)
    centres = [(lo + hi) / 2 for lo, hi, _, _ in blocks]
    shrunk = [(n * v + weight * prior(c)) / (n + weight) for (_, _, v, n), c in zip(blocks, centres)]
    # shrinking can break monotonicity (a small block moves more than a big one): pool again, weighted
    again = pav(centres, shrunk, [n + weight for *_, n in blocks])
    xs: list[float] = []
    ys: list[float] = []
    for lo, hi, v, _ in again:
        first = next(b for b, c in zip(blocks, centres) if c >= lo)
        last = [b for b, c in zip(blocks, centres) if c <= hi][-1]
        for knot in (first[0], last[1]):
            if not xs or knot > xs[-1]:
                xs.append(knot)
                ys.append(min(params.ceiling, max(params.floor, v)))
    return Curve(tuple(xs), tuple(ys), len(x))


def fit(items: Sequence[Item], params: FitParams = FitParams(), provenance: dict[str, Any] | None = None
        ) -> CalibrationMap:
    """Fit the pooled curve (shrunk toward the overall accuracy) and per-field curves (shrunk toward the pooled)."""
    if not items:
        raise ValueError("no calibration items to fit on")
    x = [min(1.0, max(0.0, it.score)) for it in items]
    y = [1.0 if it.correct else 0.0 for it in items]
    base = sum(y) / len(y)
    if params.prior not in ("accuracy", "score"):
        raise ValueError(f"unknown calibration prior {params.prior!r}")
    prior = (lambda _: base) if params.prior == "accuracy" else (lambda s: s)
    pooled = _shrunk_isotonic(x, y, prior, params.prior_weight, params)
    by_field: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by_field[it.field].append(it)
    fields = {name: _shrunk_isotonic([min(1.0, max(0.0, it.score)) for it in its],
                                     [1.0 if it.correct else 0.0 for it in its], pooled, params.prior_weight, params)
              for name, its in by_field.items()}
    return CalibrationMap(pooled=pooled, fields=fields, params=params, provenance=provenance or {})


def log_loss(cmap: CalibrationMap, items: Iterable[Item]) -> float:
    """Summed negative log-likelihood of the items' correctness under the map."""
    total = 0.0
    for it in items:
        p = cmap.predict(it.field, it.score)
        total -= math.log(p if it.correct else 1.0 - p)
    return total


def select_params(groups: Sequence[Sequence[Item]], candidates: Sequence[FitParams] = CANDIDATES) -> FitParams:
    """The candidate with the lowest leave-one-group-out log-loss (a group is one document's items).

    Log-loss, not ECE: ECE alone is minimised by answering the overall accuracy for every value."""
    groups = [g for g in groups if g]
    if len(groups) < 2:
        return candidates[0]

    def cv_loss(params: FitParams) -> float:
        return sum(log_loss(fit([it for j, g in enumerate(groups) if j != i for it in g], params), held)
                   for i, held in enumerate(groups))

    return min(candidates, key=cv_loss)


def fit_selected(groups: Sequence[Sequence[Item]], candidates: Sequence[FitParams] = CANDIDATES,
                 provenance: dict[str, Any] | None = None) -> CalibrationMap:
    """Fit on every group's items with the candidate chosen by leave-one-group-out log-loss."""
    return fit([it for g in groups for it in g], select_params(groups, candidates), provenance)


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = ECE_BINS) -> tuple[float | None, list[dict]]:
    """ECE and reliability rows exactly as the shared scorer computes them (equal-width bins, clipped to [0, 1])."""
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for conf, ok in pairs:
        conf = min(1.0, max(0.0, conf))
        members[min(bins - 1, int(conf * bins))].append((conf, ok))
    total = sum(len(m) for m in members)
    ece = 0.0 if total else None
    rows = []
    for index, m in enumerate(members):
        row: dict[str, Any] = {"bin_lower": index / bins, "bin_upper": (index + 1) / bins, "count": len(m),
                               "mean_confidence": None, "accuracy": None, "gap": None}
        if m:
            conf = sum(c for c, _ in m) / len(m)
            acc = sum(1 for _, ok in m if ok) / len(m)
            row.update(mean_confidence=conf, accuracy=acc, gap=acc - conf)
            ece += len(m) / total * abs(acc - conf)  # type: ignore[operator]
        rows.append(row)
    return ece, rows


def per_field_reliability(items: Iterable[Item]) -> dict[str, dict[str, Any]]:
    """Per field: values, mean confidence, accuracy, gap and the field's own ECE (same bins as the scorer)."""
    by_field: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by_field[it.field].append(it)
    out = {}
    for name, its in sorted(by_field.items()):
        ece, _ = reliability((it.score, it.correct) for it in its)
        conf = sum(it.score for it in its) / len(its)
        acc = sum(it.correct for it in its) / len(its)
        out[name] = {"values": len(its), "mean_confidence": conf, "accuracy": acc, "gap": acc - conf, "ece": ece}
    return out
