"""Devset-level check: the real scorer over the text-format synthetic documents (docx, html, txt)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

DEVSET = Path(__file__).resolve().parents[3] / "shared" / "devset"


def test_devset_text_formats_macro_f1(tmp_path, score_cli):
    if not (DEVSET / "truth.jsonl").exists():
        pytest.skip("shared devset not available")
    records = [json.loads(line) for line in (DEVSET / "truth.jsonl").read_text().splitlines() if line.strip()]
    text_records = [r for r in records if r.get("format") in ("docx", "html", "txt")]
    truth = tmp_path / "truth.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in text_records))
    summary = score_cli(truth, DEVSET)
    assert summary["errors"] == 0
    assert summary["macro_f1"] >= 0.85, summary
    assert summary["citation_grounding_rate"] == 1.0, summary
