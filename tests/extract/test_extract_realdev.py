"""Realdev-level guard: the real scorer over the real SEC EDGAR leases must keep macro F1 and full grounding."""
from __future__ import annotations

from pathlib import Path

REALDEV = Path(__file__).resolve().parents[3] / "shared" / "realdev"


def test_realdev_macro_f1_and_grounding(score_cli):
    summary = score_cli(REALDEV / "truth.jsonl", REALDEV)
    assert summary["errors"] == 0
    assert summary["macro_f1"] >= 0.85, summary
    assert summary["citation_grounding_rate"] == 1.0, summary
