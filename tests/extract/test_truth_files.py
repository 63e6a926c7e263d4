"""The project's own truth labels (eval/truth/*.jsonl) pass the shared leasepool verify.py checks.

verify.py only reads the shared truth.jsonl and reads every document as UTF-8 text, so its per-entry check
(`check_entry`: field set, types, enumerations, ISO dates, evidence only for non-null fields, rent rows,
flag types, exact quotes on the cited page) is imported and run on our file, with PDF pages taken from the
shared scorer's `read_pages` (pypdfium2, the text the scorer grounds citations on).
"""
from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
LEASEPOOL = SHARED / "leasepool"
TRUTH = ROOT / "eval" / "truth" / "leasepool.jsonl"
NEW_DOCS = {"P09", "P10", "P14", "P16", "P17", "P31"}


def _load(name: str, path: Path) -> ModuleType:
    """Import a shared script by path (the shared folders are not packages)."""
    if not path.exists():
        pytest.skip(f"shared script {path} not available")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def verify() -> ModuleType:
    """verify.py with its page reader extended to PDFs (the scorer's pypdfium2 text, whitespace-normalised)."""
    module = _load("leasepool_verify", LEASEPOOL / "verify.py")
    scorer = _load("shared_score", SHARED / "eval" / "score.py")
    text_pages = module.pages

    def pages(path: str) -> list[str]:
        if path.lower().endswith(".pdf"):
            return [module.norm(p) for p in scorer.read_pages(Path(path))]
        return text_pages(path)

    module.pages = pages
    return module


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in TRUTH.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_entry_passes_verify_checks(verify, entries):
    errors: list[str] = []
    checked = sum(verify.check_entry(e, errors) for e in entries)
    assert errors == []
    assert checked >= 30  # every non-null field and flag carries a quote that was located


def test_the_six_unlabelled_documents_are_labelled_once_and_complete_the_pool(entries):
    ours = [e["file"] for e in entries]
    assert sorted(Path(f).name[:3] for f in ours) == sorted(NEW_DOCS)
    assert all(not Path(f).is_absolute() and f.startswith("docs/") for f in ours)
    shared = [json.loads(line)["file"] for line in (LEASEPOOL / "truth.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    docs = sorted("docs/" + p.name for p in (LEASEPOOL / "docs").iterdir())
    assert sorted(shared + ours) == docs


def test_conventions_of_the_shared_labels(entries):
    for e in entries:
        assert e["notes"].strip() and e["labelled_by"] == "manual-reading"
        assert e["amends"] is None
        if e["kind"] == "not_a_lease":
            assert all(v is None for v in e["fields"].values())
            assert e["evidence"] == {} and e["rent_schedule"] == [] and e["risk_flags"] == []
        for row in e["rent_schedule"]:
            assert row["monthly_rent"] >= 0
        starts = [r["start"] for r in e["rent_schedule"]]
        assert starts == sorted(starts)


def test_checker_rejects_a_quote_missing_from_the_cited_page(verify, entries):
    broken = copy.deepcopy(next(e for e in entries if e["file"].endswith(".pdf") and e["evidence"]))
    field = next(iter(broken["evidence"]))
    broken["evidence"][field]["quote"] += " NOT IN THE DOCUMENT"
    errors: list[str] = []
    verify.check_entry(broken, errors)
    assert any("quote not found" in err for err in errors)
