"""Extraction quality and speed with the shared scorer: devset (OCR excluded for the speed goal) and realdev."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "eval" / "score.py"


def _score(truth: Path, docs_root: Path) -> dict:
    atlas = Path(sys.executable).with_name("atlas")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, str(SCORER), "--truth", str(truth), "--docs-root", str(docs_root),
                        "--cmd", f"{atlas} extract {{file}} --json", "--json", str(report)],
                       check=True, capture_output=True, timeout=1800)
        s = json.loads(report.read_text())["summary"]
    return {"docs": s["docs"], "errors": s["errors"], "macro_f1": s["macro_f1"],
            "risk_flag_f1": s["risk_flags"]["f1"], "grounding": s["citation_grounding_rate"], "ece": s["ece"],
            "seconds_per_doc_mean": s["seconds_per_doc_mean"], "seconds_per_doc_p95": s["seconds_per_doc_p95"]}


def run() -> dict:
    """Score devset (all, and without image-only PDFs for the speed goal) and realdev."""
    if not SCORER.exists():
        return {"error": f"scorer not found at {SCORER}"}
    devset = SHARED / "devset"
    out = {"devset": _score(devset / "truth.jsonl", devset)}
    with tempfile.TemporaryDirectory() as tmp:
        no_ocr = Path(tmp) / "truth.jsonl"
        no_ocr.write_text("".join(line + "\n" for line in (devset / "truth.jsonl").read_text().splitlines()
                                  if line.strip() and json.loads(line).get("format") != "pdf_image"))
        out["devset_without_ocr"] = _score(no_ocr, devset)
    out["realdev"] = _score(SHARED / "realdev" / "truth.jsonl", SHARED / "realdev")
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
