"""`atlas calibrate` and `atlas eval` (plain and --cv) on a tiny labelled set, scored by the shared scorer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline import cli
from pipeline.extract import calibration
from pipeline.extract.calibration import CalibrationMap

from .conftest import BLI, CANADA, NARRATIVE, SCORER

TRUTH = {
    "narrative.txt": {"landlord": "Granite Ridge Partners, L.P.", "tenant": "Bluefin Robotics, Inc.", "suite": "310",
                      "leased_area_sqft": 6000, "commencement_date": "2025-03-01", "term_months": 60,
                      "base_rent_monthly": 25000, "currency": "USD", "security_deposit": 50000,
                      "governing_law": "Texas", "expense_recovery_type": "gross", "asset_type": "retail"},
    "bli.txt": {"landlord": "Northgate Retail Owner LLC", "tenant": "Copperleaf Coffee Company", "suite": "B-12",
                "commencement_date": "2026-05-01", "expiration_date": "2029-04-30", "term_months": 36,
                "base_rent_monthly": 6000, "currency": "USD", "governing_law": "Texas", "asset_type": "retail"},
    "canada.txt": {"landlord": "Maple Court Holdings Inc.", "tenant": "Northwind Outfitters Ltd.", "suite": "5",
                   "term_months": 24, "base_rent_monthly": 6000, "currency": "CAD", "governing_law": "Ontario"},
}


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """Three small leases and their truth (a few labels deliberately disagree with the extractor)."""
    if not SCORER.exists():
        pytest.skip(f"shared scorer not available at {SCORER}")
    root = tmp_path / "tiny"
    (root / "docs").mkdir(parents=True)
    for name, text in (("narrative.txt", NARRATIVE), ("bli.txt", BLI), ("canada.txt", CANADA)):
        (root / "docs" / name).write_text(text)
    (root / "truth.jsonl").write_text("".join(
        json.dumps({"file": f"docs/{name}", "kind": "lease", "fields": fields}) + "\n"
        for name, fields in TRUTH.items()))
    return root


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _png_ok(path: Path) -> None:
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (1100, 560)


def test_calibrate_writes_a_map_with_provenance_and_the_out_of_fold_report(labelled: Path, tmp_path: Path):
    out, reports = tmp_path / "map.json", tmp_path / "reports"
    text = _run(["calibrate", "--truth", str(labelled / "truth.jsonl"), "--out", str(out),
                 "--report-dir", str(reports)])
    assert "all (leave-one-document-out)" in text and "calibration map written to" in text
    assert "governing_law" in text.split("== Reliability")[1]  # the per-field table
    cmap = CalibrationMap.load(out)
    prov = cmap.provenance
    (entry,) = prov["training_sets"]
    assert Path(entry["truth_abs"]) == (labelled / "truth.jsonl").resolve() and entry["docs"] == 3
    oof_report = json.loads((reports / "oof-report.json").read_text())
    assert prov["out_of_fold"]["ece"] == oof_report["summary"]["ece"] and oof_report["summary"]["docs"] == 3
    wrong = sum(not c["correct"] for d in oof_report["per_doc"] for c in d["calibration"])
    assert wrong >= 4 and entry["accuracy"] < 1.0
    assert cmap.params.to_dict() in prov["candidates"] and prov["fitted_at"].startswith("20")
    _png_ok(reports / "oof-reliability.png")
    assert calibration.shipped_map().provenance != prov  # --out leaves the shipped map alone


def test_eval_prints_per_field_reliability_and_writes_the_diagram_beside_the_report(labelled: Path, tmp_path: Path):
    report = tmp_path / "out" / "tiny.json"
    text = _run(["eval", str(labelled), "--json-out", str(report)])
    assert "== Reliability (tiny) ==" in text  # the scorer's own summary goes straight to the terminal
    assert any(line.startswith("tenant ") for line in text.splitlines())
    assert "in-sample" not in text  # these documents did not train the shipped map
    summary = json.loads(report.read_text())["summary"]
    assert summary["docs"] == 3 and summary["errors"] == 0 and summary["calibration_values"] >= 20
    _png_ok(report.with_suffix(".reliability.png"))


def test_eval_cv_refits_on_the_shipped_training_sets_without_the_scored_document(labelled: Path, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch):
    fitted = tmp_path / "map.json"
    _run(["calibrate", "--truth", str(labelled / "truth.jsonl"), "--out", str(fitted),
          "--report-dir", str(tmp_path / "fit")])
    monkeypatch.setattr(calibration, "shipped_map", lambda: CalibrationMap.load(fitted))
    report = tmp_path / "cv.json"
    text = _run(["eval", str(labelled), "--cv", "--json-out", str(report)])
    assert "(leave-one-document-out)" in text
    plain = _run(["eval", str(labelled), "--json-out", str(tmp_path / "plain.json")])
    assert "note: 3 of these documents trained the shipped calibration" in plain
    cv = json.loads(report.read_text())
    oof = json.loads((tmp_path / "fit" / "oof-report.json").read_text())
    # the same documents held out of the same pool: the same confidences as calibrate's out-of-fold run
    assert cv["summary"]["ece"] == pytest.approx(oof["summary"]["ece"])
    assert cv["summary"]["macro_f1"] == pytest.approx(oof["summary"]["macro_f1"])
    _png_ok(report.with_suffix(".reliability.png"))
