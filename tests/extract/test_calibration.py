"""Calibration maps: PAV, shrinkage toward the pooled curve, prior weight by document CV, the scorer's ECE."""
from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from pipeline.extract import calibration
from pipeline.extract.calibration import CalibrationMap, Curve, FitParams, Item

from .conftest import SCORER


def _scorer_module():
    if not SCORER.exists():
        pytest.skip(f"shared scorer not available at {SCORER}")
    spec = importlib.util.spec_from_file_location("shared_score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_pav_is_the_least_squares_isotonic_fit():
    sklearn_isotonic = pytest.importorskip("sklearn.isotonic")
    rng = random.Random(7)
    x = [rng.choice([0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95]) for _ in range(120)]
    y = [float(rng.random() < xi) for xi in x]
    blocks = calibration.pav(x, y)
    ours = {xi: next(v for lo, hi, v, _ in blocks if lo <= xi <= hi) for xi in x}
    ref = sklearn_isotonic.IsotonicRegression().fit(x, y)
    for xi in set(x):
        assert ours[xi] == pytest.approx(float(ref.predict([xi])[0]))
    values = [v for _, _, v, _ in blocks]
    assert values == sorted(values) and sum(w for *_, w in blocks) == len(x)


def test_pav_pools_a_violation():
    assert calibration.pav([0.1, 0.2, 0.3], [1.0, 0.0, 1.0]) == [(0.1, 0.2, 0.5, 2.0), (0.3, 0.3, 1.0, 1.0)]


def test_reliability_matches_the_shared_scorer():
    score = _scorer_module()
    rng = random.Random(3)
    pairs = [(rng.uniform(-0.1, 1.1), rng.random() < 0.7) for _ in range(300)] + [(1.0, True), (0.1, False)]
    ours, rows = calibration.reliability(pairs)
    theirs, ref_rows = score.reliability_table([{"confidence": c, "correct": ok} for c, ok in pairs])
    assert ours == pytest.approx(theirs) and rows == ref_rows


def _items(field: str, n_right: int, n_wrong: int, score: float, doc: str = "d") -> list[Item]:
    return [Item(field, score, True, doc)] * n_right + [Item(field, score, False, doc)] * n_wrong


def test_fit_follows_a_well_sampled_field_and_pools_a_rare_one():
    items = (_items("tenant", 95, 5, 0.9) + _items("tenant", 40, 60, 0.5)
             + _items("suite", 30, 70, 0.9) + _items("renewal_terms", 1, 0, 0.9))
    cmap = calibration.fit(items, FitParams(prior_weight=10))
    assert cmap.predict("tenant", 0.9) > 0.85 and cmap.predict("tenant", 0.5) < 0.5
    assert cmap.predict("suite", 0.9) < 0.45  # its own 100 values outweigh the pooled curve
    # one example: the rare field stays near the pooled curve, and an unseen field is the pooled curve
    assert abs(cmap.predict("renewal_terms", 0.9) - cmap.pooled(0.9)) < 0.05
    assert cmap.predict("escalation", 0.9) == cmap.pooled(0.9)
    assert cmap.predict("tenant", 0.7) <= cmap.predict("tenant", 0.8) <= cmap.predict("tenant", 0.95)


def test_strong_shrinkage_gives_the_overall_accuracy_and_outputs_stay_in_range():
    items = _items("landlord", 10, 0, 0.9) + _items("landlord", 0, 10, 0.3)
    flat = calibration.fit(items, FitParams(prior_weight=1e9))
    assert flat.predict("landlord", 0.3) == pytest.approx(0.5) == pytest.approx(flat.predict("landlord", 0.9))
    sharp = calibration.fit(items, FitParams(prior_weight=0.0))
    assert sharp.predict("landlord", 0.9) == 0.98 and sharp.predict("landlord", 0.3) == 0.02


def test_fit_parameters_are_chosen_by_document_cross_validation():
    rng = random.Random(11)
    informative = [[Item("tenant", s, rng.random() < s, f"d{i}") for s in (0.2, 0.5, 0.9, 0.95) * 5]
                   for i in range(12)]
    noise = [[Item("tenant", round(rng.uniform(0.3, 0.95), 2), rng.random() < 0.8, f"d{i}") for _ in range(20)]
             for i in range(12)]
    grid = [FitParams(prior_weight=1.0), FitParams(prior_weight=1000.0)]
    assert calibration.select_params(informative, grid).prior_weight == 1.0
    assert calibration.select_params(noise, grid).prior_weight == 1000.0
    # scores that are already probabilities: pulling toward the score beats pulling toward the overall accuracy
    priors = [FitParams(prior_weight=1000.0, prior="accuracy"), FitParams(prior_weight=1000.0, prior="score")]
    assert calibration.select_params(informative, priors).prior == "score"


def test_score_prior_keeps_raw_scores_where_data_is_thin():
    items = _items("tenant", 5, 5, 0.9)
    cmap = calibration.fit(items, FitParams(prior_weight=1e9, prior="score"))
    assert cmap.predict("tenant", 0.9) == pytest.approx(0.9) and cmap.pooled(0.9) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        calibration.fit(items, FitParams(prior="nonsense"))


def test_map_round_trip_and_malformed_curves(tmp_path: Path):
    cmap = calibration.fit(_items("tenant", 8, 2, 0.9) + _items("landlord", 3, 3, 0.6), provenance={"x": 1})
    path = tmp_path / "map.json"
    cmap.save(path)
    again = CalibrationMap.load(path)
    assert again.provenance == {"x": 1} and again.params == cmap.params
    for name, score in (("tenant", 0.9), ("landlord", 0.6), ("suite", 0.75)):
        assert again.predict(name, score) == pytest.approx(cmap.predict(name, score), abs=1e-6)
    with pytest.raises(ValueError):
        Curve.from_dict({"x": [0.5, 0.2], "y": [0.1, 0.2]})
    with pytest.raises(ValueError):
        Curve.from_dict({"x": [0.5], "y": [1.5]})
