"""The ../shared/badinputs corpus through the HTTP upload path and the worker's job path.

Every MANIFEST.json entry is uploaded under its real file name to a live loopback server; the outcome must be
`expected` or one of `also_acceptable`, with no 5xx, no traceback text, a bounded wall time, nothing indexed for
refused or failed documents, nothing written outside the data directory, and the worker still alive. The
120 MB `--with-large` cases are generated into a temporary folder (about 10 s; ATLAS_TEST_SKIP_LARGE_BADINPUTS=1
leaves them out on a machine short of disk).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from badinputs_support import (BIDI_AND_NUL, TRACEBACK, document_rows_for, extraction_rows_for, tree,
                               unexpected_data_files, upload_and_wait)
from reliability_support import BADINPUTS, Live

pytestmark = pytest.mark.skipif(not (BADINPUTS / "MANIFEST.json").exists(), reason="../shared/badinputs missing")

MANIFEST = json.loads((BADINPUTS / "MANIFEST.json").read_text()) if (BADINPUTS / "MANIFEST.json").exists() else []
NAMES = json.loads((BADINPUTS / "upload_names.json").read_text()) if (BADINPUTS / "upload_names.json").exists() else []
LARGE = os.environ.get("ATLAS_TEST_SKIP_LARGE_BADINPUTS") != "1"
OCR_CASES = {"scanned_lease.pdf", "bomb_in_pdf.pdf", "pdf_many_pages_tiny.pdf"}
SOFT_MISMATCHES: list[str] = []


class Run:
    """One server for the whole corpus, with a private cwd and temp folder to prove nothing lands elsewhere."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.cwd = base / "cwd"
        self.tmp = base / "tmp"
        self.data = base / "data"
        for p in (self.cwd, self.tmp):
            p.mkdir()
        self.old_cwd = os.getcwd()
        self.old_tempdir = tempfile.tempdir
        os.chdir(self.cwd)
        tempfile.tempdir = str(self.tmp)
        self.repo = Path(__file__).resolve().parents[2]
        self.srv = Live(self.data)
        self.files = BADINPUTS / "files"
        self.large: list[dict] = []
        if LARGE:
            out = base / "large"
            subprocess.run([sys.executable, str(BADINPUTS / "generate.py"), "--with-large", "--out", str(out)],
                           check=True, timeout=1200, cwd=self.cwd)
            self.large = json.loads((out / "MANIFEST.large.json").read_text())
            self.large_root = out / "files"

    def close(self) -> None:
        self.srv.close()
        os.chdir(self.old_cwd)
        tempfile.tempdir = self.old_tempdir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    r = Run(tmp_path_factory.mktemp("badinputs"))
    yield r
    r.close()


def _judge(run: Run, entry: dict, name: str, data: bytes, key: str) -> None:
    allowed = {entry["expected"], *entry.get("also_acceptable", [])}
    budget = 300.0 if Path(entry.get("file", entry.get("carries", ""))).name in OCR_CASES else 60.0
    before_rows = document_rows_for(run.srv, data)
    got = upload_and_wait(run.srv, key, name, data, budget)
    assert got.outcome not in ("5xx", "timeout"), (name, got.outcome, got.upload_status, got.seconds, got.doc)
    assert got.outcome in allowed, (name, got.outcome, sorted(allowed), got.texts)
    assert got.seconds <= budget, (name, got.seconds)
    for text in got.texts:
        assert not TRACEBACK.search(text), (name, text[:500])
    if got.outcome == "reject_at_upload":
        assert document_rows_for(run.srv, data) == before_rows, f"{name}: a refused upload left a document row"
        return
    doc = got.doc
    if got.outcome == "fail_job_cleanly":
        assert doc["error_code"] and doc["error_message"], doc
        assert not TRACEBACK.search(doc["error_message"])
        assert extraction_rows_for(run.srv, doc["id"]) == 0, f"{name}: a failed document has extraction rows"
        with run.srv.services.uow_factory() as uow:
            assert uow.documents.get_any_org(doc["id"]).parsed_key is None  # no stored pages for a failed job
        return
    import requests

    r = requests.get(f"{run.srv.url}/v1/documents/{doc['id']}/extraction", headers=run.srv.auth(key), timeout=30)
    assert r.status_code == 200, r.text
    extraction = r.json()
    blob = json.dumps(extraction, ensure_ascii=False)
    for bad in entry.get("must_not_contain", []):
        assert bad not in blob, f"{name}: extraction contains {bad!r}"
    truth = entry.get("truth")
    if truth:
        fields = extraction["fields"]
        for ours, theirs in (("tenant", "tenant"), ("landlord", "landlord")):
            value = fields[ours]["value"]
            if value is not None:  # compared where the extractor found them
                assert _norm(value) == _norm(truth[theirs]), (name, ours, value, truth[theirs])
        for ours, theirs in (("base_rent_monthly", "base_rent_monthly"), ("security_deposit", "security_deposit"),
                             ("commencement_date", "start_date"), ("expiration_date", "end_date")):
            value = fields[ours]["value"]
            if value is not None and str(value) != str(truth[theirs]) and not _same_number(value, truth[theirs]):
                SOFT_MISMATCHES.append(f"{name}: {ours}={value!r} truth={truth[theirs]!r}")


def _norm(s: object) -> str:
    return " ".join(str(s).lower().replace(",", "").split())


def _same_number(a: object, b: object) -> bool:
    try:
        return abs(float(a) - float(b)) < 0.005  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_manifest_entry(run: Run, entry: dict):
    data = (run.files / entry["file"]).read_bytes()
    _judge(run, entry, Path(entry["file"]).name, data, run.srv.key_a)


def test_large_manifest_entries(run: Run):
    if not LARGE:
        pytest.skip("120 MB cases left out: ATLAS_TEST_SKIP_LARGE_BADINPUTS=1")
    assert run.large
    for entry in run.large:
        _judge(run, entry, Path(entry["file"]).name, (run.large_root / entry["file"]).read_bytes(), run.srv.key_a)


@pytest.mark.parametrize("entry", NAMES, ids=[repr(e["name"])[1:-1][:40] for e in NAMES])
def test_hostile_upload_name(run: Run, entry: dict):
    from pipeline.usecases.ingest import safe_display_name

    # a fresh organisation per name, so the shared carrier bytes are never answered as a duplicate
    key = run.srv.new_key(f"names-{NAMES.index(entry)}")
    data = (run.files / entry["carries"]).read_bytes()
    _judge(run, entry, entry["name"], data, key)
    import requests

    docs = requests.get(f"{run.srv.url}/v1/documents", headers=run.srv.auth(key), timeout=30).json()["documents"]
    for d in docs:  # accepted: the stored name is display metadata only
        stored = d["filename"]
        assert stored == safe_display_name(entry["name"]) and len(stored) <= 255
        assert not (set(stored) & BIDI_AND_NUL) and "/" not in stored and "\\" not in stored
        with run.srv.services.uow_factory() as uow:
            blob_key = uow.documents.get_any_org(d["id"]).blob_key
        assert blob_key.startswith("sha256/") and stored not in blob_key


def test_nothing_escaped_the_data_directory(run: Run):
    """After the whole corpus: worker alive, no stray files in cwd/tmp/repo, the data dir holds only db + blobs."""
    assert run.srv.worker_alive()
    assert tree(run.cwd) == set(), sorted(tree(run.cwd))
    assert tree(run.tmp) == set(), sorted(tree(run.tmp))  # no leftover temporary files from parsing or OCR
    assert unexpected_data_files(run.data) == []
    basenames = {Path(e["name"].replace("\\", "/")).name for e in NAMES if e["name"].strip()} | \
                {Path(e["file"]).name for e in MANIFEST}
    for base in (run.base, run.repo):  # no file anywhere was named after an upload's name
        hits = [p for p in _walk(base) if p.name in basenames]
        assert not hits, hits
    for absolute in ("/etc/passwd.pdf", "/etc/cron.d/lease.pdf", "/Windows/win.ini.pdf"):
        assert not Path(absolute).exists()
    if SOFT_MISMATCHES:
        print("\nsoft field mismatches (info only):\n  " + "\n  ".join(SOFT_MISMATCHES))


def _walk(root: Path) -> list[Path]:
    """Files under root, skipping virtualenvs, git and the corpus' own copies."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in {".venv", ".venv-tools", ".git", "node_modules", "tests",
                                                        "shared", "badinputs", "large", "__pycache__"}]
        out.extend(Path(dirpath) / f for f in filenames)
    return out
