"""Devset-level check: the real scorer over the text-format synthetic documents (docx, html, txt)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT.parent / "shared" / "devset"
SCORER = ROOT.parent / "shared" / "eval" / "score.py"


def test_devset_text_formats_macro_f1(tmp_path):
    if not (DEVSET / "truth.jsonl").exists() or not SCORER.exists():
        pytest.skip("shared devset/scorer not available")
    records = [json.loads(line) for line in (DEVSET / "truth.jsonl").read_text().splitlines() if line.strip()]
    text_records = [r for r in records if r.get("format") in ("docx", "html", "txt")]
    truth = tmp_path / "truth.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in text_records))
    report = tmp_path / "report.json"
    cmd = f"{Path(sys.executable).with_name('atlas')} extract {{file}} --json"
    subprocess.run([sys.executable, str(SCORER), "--truth", str(truth), "--docs-root", str(DEVSET), "--cmd", cmd,
                    "--json", str(report), "--timeout", "60"], cwd=ROOT, check=True, capture_output=True, timeout=240)
    summary = json.loads(report.read_text())["summary"]
    assert summary["errors"] == 0
    assert summary["macro_f1"] >= 0.85, summary
    assert summary["citation_grounding_rate"] == 1.0, summary
