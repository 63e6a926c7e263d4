"""Every hostile or malformed input in the badinputs manifest gets its listed behaviour, within a time bound."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import ParseLimits, check_upload, parse_document

CASE_BUDGET_S = 60.0
LIMITS = ParseLimits(timeout_s=CASE_BUDGET_S)


def _entries(shared_dir: Path) -> list[dict]:
    path = shared_dir / "badinputs" / "MANIFEST.json"
    if not path.is_file():
        pytest.skip("badinputs manifest not found")
    return json.loads(path.read_text(encoding="utf-8"))


def _outcomes(entry: dict) -> set[str]:
    return {entry["expected"], *entry.get("also_acceptable", [])}


def _check(entry: dict, data: bytes) -> None:
    name = Path(entry["file"]).name
    allowed = _outcomes(entry)
    started = time.monotonic()
    try:
        check_upload(data, name, LIMITS)
    except InvalidDocument as exc:
        assert "reject_at_upload" in allowed, (name, exc.code, str(exc))
        assert exc.message and exc.code != "invalid_document"
        return
    assert entry["expected"] != "reject_at_upload" or allowed - {"reject_at_upload"}, \
        f"{name} should have been rejected at upload"
    try:
        doc = parse_document(data, limits=LIMITS)
    except InvalidDocument as exc:
        if exc.code == "ocr_unavailable" and shutil.which("tesseract") is None:
            return  # a scanned control needs Tesseract; without it the clean failure is the right outcome
        assert "fail_job_cleanly" in allowed, (name, exc.code, str(exc))
        assert exc.code != "invalid_document" and exc.message
        assert "Traceback" not in exc.message
    else:
        assert "process_ok" in allowed, f"{name} parsed but should have failed"
        assert doc.text.strip()
        for key in ("tenant", "landlord"):
            value = (entry.get("truth") or {}).get(key)
            if value:
                assert value in doc.text, (name, key, value)
        for bad in entry.get("must_not_contain", []):
            if bad != "sk-":  # "sk-" is about leaked keys in outputs; the lease text may legitimately hold "ask-"
                assert bad not in doc.text, (name, bad)
            else:
                assert " sk-" not in doc.text and "\nsk-" not in doc.text, name
    assert time.monotonic() - started < CASE_BUDGET_S, name


def test_manifest_small_cases(shared_dir):
    entries = _entries(shared_dir)
    assert len(entries) >= 30
    for entry in entries:
        _check(entry, (shared_dir / "badinputs" / "files" / entry["file"]).read_bytes())


@pytest.mark.slow
def test_manifest_with_generated_large_cases(shared_dir, tmp_path):
    pytest.importorskip("pypdf", reason="badinputs/generate.py needs pypdf (pip install pypdf==7.1.0)")
    pytest.importorskip("cryptography", reason="badinputs/generate.py needs cryptography")
    out = tmp_path / "badinputs"
    subprocess.run([sys.executable, str(shared_dir / "badinputs" / "generate.py"), "--with-large", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    manifests = [json.loads((out / "MANIFEST.json").read_text())]
    large = out / "MANIFEST.large.json"
    assert large.is_file(), "generate.py --with-large wrote no MANIFEST.large.json"
    manifests.append(json.loads(large.read_text()))
    assert manifests[1], "no large cases generated"
    for entries in manifests:
        for entry in entries:
            _check(entry, (out / "files" / entry["file"]).read_bytes())
