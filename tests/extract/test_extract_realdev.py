"""Realdev-level guard: the real scorer over the real SEC EDGAR leases must keep macro F1 and full grounding."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REALDEV = ROOT.parent / "shared" / "realdev"
SCORER = ROOT.parent / "shared" / "eval" / "score.py"


def test_realdev_macro_f1_and_grounding(tmp_path):
    if not (REALDEV / "truth.jsonl").exists() or not SCORER.exists():
        pytest.skip("shared realdev/scorer not available")
    report = tmp_path / "report.json"
    cmd = f"{Path(sys.executable).with_name('atlas')} extract {{file}} --json"
    subprocess.run([sys.executable, str(SCORER), "--truth", str(REALDEV / "truth.jsonl"), "--docs-root", str(REALDEV),
                    "--cmd", cmd, "--json", str(report), "--timeout", "60"],
                   cwd=ROOT, check=True, capture_output=True, timeout=240)
    summary = json.loads(report.read_text())["summary"]
    assert summary["errors"] == 0
    assert summary["macro_f1"] >= 0.85, summary
    assert summary["citation_grounding_rate"] == 1.0, summary
