"""Evaluation runs over labelled sets: extract each document once, cross-validate the calibration, score.

Every reported number comes from the shared scorer (`score.py --pred-dir`), run over prediction files written
here; the only thing computed in-process is the fit. Leave-one-document-out: for each held-out document the
calibration map is fitted on the other documents of the training pool and applied to it, so every figure for a
pooled document is out-of-sample for the map that produced its confidences.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pipeline.extract import calibration, confidence
from pipeline.extract.calibration import CalibrationMap, FitParams, Item

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LabelledSet:
    """A truth.jsonl and the folder its `file` paths are relative to."""

    name: str
    truth: Path
    docs_root: Path


@dataclass(frozen=True)
class LabelledDoc:
    """One labelled document: its set, absolute path and truth record (with `file` made absolute)."""

    set_name: str
    path: Path
    record: dict[str, Any]


def load_docs(sets: Sequence[LabelledSet]) -> list[LabelledDoc]:
    """Every labelled document of the sets; a document labelled twice keeps its last label."""
    docs: dict[Path, LabelledDoc] = {}
    for s in sets:
        for number, line in enumerate(s.truth.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("file"), str):
                raise ValueError(f"{s.truth}:{number}: each line needs an object with a 'file' string")
            path = (s.docs_root / record["file"]).resolve()
            if path in docs:
                log.warning("%s is labelled in more than one truth file; using %s", path.name, s.truth)
            docs[path] = LabelledDoc(s.name, path, {**record, "file": str(path)})
    names = [p.name for p in docs]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"document basenames must be unique across the sets (the scorer's --pred-dir): {clashes}")
    return list(docs.values())


def extract_file(path: Path, settings: Any, extractor: Any = None) -> dict[str, Any]:
    """Parse and extract one file as `atlas extract --json` does (AtlasError on a rejected file)."""
    from pipeline.bootstrap import build_extractor
    from pipeline.parse import ParseLimits, parse_document
    from pipeline.parse.formats import check_upload

    limits = ParseLimits(max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages,
                         max_page_pixels=settings.max_page_pixels, timeout_s=settings.parse_timeout_s,
                         max_text_chars=settings.max_text_chars, ocr_workers=settings.ocr_workers)
    data = path.read_bytes()
    check_upload(data, path.name, limits=limits)
    parsed = parse_document(data, limits=limits)
    return (extractor or build_extractor(settings)).extract(parsed).to_dict()


def extract_raw(docs: Iterable[LabelledDoc], settings: Any,
                progress: Callable[[str], None] | None = None) -> dict[Path, dict[str, Any]]:
    """Rule-extractor predictions whose field confidences are the raw scores (one extraction per document)."""
    from pipeline.domain.errors import AtlasError
    from pipeline.extract.rules import RuleExtractor

    extractor = RuleExtractor(review_threshold=settings.review_threshold)
    out: dict[Path, dict[str, Any]] = {}
    for doc in docs:
        if doc.path in out:
            continue
        with confidence.raw_scores():
            try:
                out[doc.path] = extract_file(doc.path, settings, extractor)
            except AtlasError as exc:  # the scorer counts a missing prediction as empty and lists the error
                log.warning("%s: %s", doc.path.name, exc)
                if progress:
                    progress(f"{doc.path.name}: not extracted ({exc.code})")
                continue
        if progress:
            progress(f"{doc.path.name}: extracted")
    return out


@dataclass
class ScoreRun:
    """One shared-scorer run: its JSON report and its printed summary."""

    report: dict[str, Any]
    text: str


def run_scorer(scorer: Path, docs: Sequence[LabelledDoc], predictions: dict[Path, dict[str, Any]], workdir: Path,
               json_out: Path | None = None, md_out: Path | None = None) -> ScoreRun:
    """Score predictions of `docs` with the shared scorer in --pred-dir mode (truth paths made absolute)."""
    workdir.mkdir(parents=True, exist_ok=True)
    pred_dir = workdir / "preds"
    pred_dir.mkdir(exist_ok=True)
    truth = workdir / "truth.jsonl"
    truth.write_text("".join(json.dumps(d.record, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    for d in docs:
        target = pred_dir / (d.path.name + ".json")
        if d.path in predictions:
            target.write_text(json.dumps(predictions[d.path], ensure_ascii=False), encoding="utf-8")
        else:
            target.unlink(missing_ok=True)
    json_out = json_out or workdir / "report.json"
    cmd = [sys.executable, str(scorer), "--truth", str(truth), "--docs-root", str(workdir),
           "--pred-dir", str(pred_dir), "--json", str(json_out)]
    if md_out:
        cmd += ["--md", str(md_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"scorer failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return ScoreRun(json.loads(json_out.read_text(encoding="utf-8")), proc.stdout)


def items_by_doc(report: dict[str, Any]) -> dict[Path, list[Item]]:
    """The scorer's per-document calibration items (field, confidence, correct), keyed by document path."""
    out: dict[Path, list[Item]] = {}
    for d in report["per_doc"]:
        path = Path(d["file"])
        out[path] = [Item(c["field"], float(c["confidence"]), bool(c["correct"]), path.name)
                     for c in d["calibration"] if c["confidence"] is not None]
    return out


def apply_map(prediction: dict[str, Any], cmap: CalibrationMap, threshold: float) -> dict[str, Any]:
    """A raw-score prediction with calibrated confidences and needs_review routed by the threshold."""
    out = copy.deepcopy(prediction)
    for name, fv in (out.get("fields") or {}).items():
        if fv.get("status") == "not_found" or fv.get("value") is None:
            continue
        fv["confidence"] = round(cmap.predict(name, float(fv["confidence"])), 4)
        fv["status"] = "found" if fv["confidence"] >= threshold else "needs_review"
    return out


def cross_validate(raw: dict[Path, dict[str, Any]], items: dict[Path, list[Item]], pool: Sequence[Path],
                   targets: Sequence[Path], threshold: float,
                   candidates: Sequence[FitParams] = calibration.CANDIDATES) -> dict[Path, dict[str, Any]]:
    """Per target document: fit on the pool's other documents (fit parameters chosen on them too), apply to it."""
    out = {}
    for target in targets:
        if target not in raw:
            continue
        groups = [items.get(p, []) for p in pool if p != target]
        out[target] = apply_map(raw[target], calibration.fit_selected(groups, candidates), threshold)
    return out


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_commit() -> dict[str, Any]:
    """The repository commit the fit ran on, and whether code other than the map had uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True,
                              check=False).stdout

    commit = git("rev-parse", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    shipped = str(calibration.SHIPPED_PATH.relative_to(REPO_ROOT))
    return {"commit": commit, "uncommitted_changes": sorted(p for p in changed if p != shipped)}


def repo_relative(path: Path) -> str:
    """A path relative to the repository root, symlinks kept (../shared stays ../shared in any checkout)."""
    return os.path.relpath(os.path.abspath(path), REPO_ROOT)


def summary_of(report: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a scorer report."""
    s = report["summary"]
    return {"docs": s["docs"], "values": s["calibration_values"], "ece": s["ece"], "macro_f1": s["macro_f1"]}


def resolve_training_sets(cmap: CalibrationMap) -> list[LabelledSet]:
    """The training sets recorded in a map's provenance, found relative to the repository root or absolutely."""
    sets = []
    for entry in cmap.provenance.get("training_sets", []):
        found = None
        for truth, root in ((REPO_ROOT / entry["truth"], REPO_ROOT / entry["docs_root"]),
                            (Path(entry.get("truth_abs", "")), Path(entry.get("docs_root_abs", "")))):
            if truth.is_file() and root.is_dir():
                found = LabelledSet(entry["name"], truth, root)
                break
        if found is None:
            raise FileNotFoundError(f"training set {entry['name']!r} of the calibration map not found "
                                    f"({entry['truth']}); re-fit with `atlas calibrate`")
        if entry.get("truth_sha256") and sha256(found.truth) != entry["truth_sha256"]:
            log.warning("truth file %s changed since the map was fitted", found.truth)
        sets.append(found)
    return sets


def fit_and_report(sets: Sequence[LabelledSet], settings: Any, scorer: Path, workdir: Path,
                   candidates: Sequence[FitParams] = calibration.CANDIDATES,
                   progress: Callable[[str], None] | None = None, command: str = "") -> dict[str, Any]:
    """Extract every document once, score out-of-fold per set and pooled, fit the final map on all of them.

    Returns {"map", "raw" (ScoreRun, raw scores as confidence), "oof" (ScoreRun, pooled out-of-fold),
    "per_set" ({name: ScoreRun}), "items" (out-of-fold Items)}."""
    docs = load_docs(sets)
    raw = extract_raw(docs, settings, progress)
    raw_run = run_scorer(scorer, docs, raw, workdir / "raw")
    items = items_by_doc(raw_run.report)
    paths = [d.path for d in docs]
    oof = cross_validate(raw, items, paths, paths, settings.review_threshold, candidates)
    oof_run = run_scorer(scorer, docs, oof, workdir / "oof", md_out=workdir / "oof" / "report.md")
    per_set = {s.name: run_scorer(scorer, [d for d in docs if d.set_name == s.name], oof, workdir / f"oof-{i}")
               for i, s in enumerate(sets)}
    per_set_items: dict[str, list[Item]] = defaultdict(list)
    for d in docs:
        per_set_items[d.set_name] += items.get(d.path, [])
    provenance = {
        "fitted_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "code": code_commit(),
        "extractor": _extractor_version(),
        "command": command,
        "candidates": [c.to_dict() for c in candidates],
        "review_threshold": settings.review_threshold,
        "training_sets": [{"name": s.name, "truth": repo_relative(s.truth), "docs_root": repo_relative(s.docs_root),
                           "truth_abs": str(s.truth.resolve()), "docs_root_abs": str(s.docs_root.resolve()),
                           "truth_sha256": sha256(s.truth),
                           "docs": sum(1 for d in docs if d.set_name == s.name),
                           "values": len(per_set_items[s.name]),
                           "accuracy": (sum(it.correct for it in per_set_items[s.name]) / len(per_set_items[s.name])
                                        if per_set_items[s.name] else None)} for s in sets],
        "out_of_fold": {"scheme": "leave-one-document-out", "scorer": repo_relative(scorer),
                        **summary_of(oof_run.report),
                        "per_set": {name: {**summary_of(run.report), "uncalibrated_raw_score_ece": _raw_ece(
                            per_set_items[name])} for name, run in per_set.items()},
                        "uncalibrated_raw_score_ece": raw_run.report["summary"]["ece"]},
    }
    final = calibration.fit_selected([items.get(p, []) for p in paths], candidates, provenance)
    return {"map": final, "raw": raw_run, "oof": oof_run, "per_set": per_set,
            "items": items_by_doc(oof_run.report)}


def cross_validated_eval(eval_sets: Sequence[LabelledSet], pool_sets: Sequence[LabelledSet], settings: Any,
                         scorer: Path, workdir: Path, candidates: Sequence[FitParams] = calibration.CANDIDATES,
                         json_out: Path | None = None,
                         md_out: Path | None = None, progress: Callable[[str], None] | None = None) -> ScoreRun:
    """Score `eval_sets` with confidences from maps fitted on the pool minus each scored document."""
    eval_docs = load_docs(eval_sets)
    pool_docs = load_docs(pool_sets)
    every = {d.path: d for d in pool_docs + eval_docs}
    raw = extract_raw(every.values(), settings, progress)
    pool_run = run_scorer(scorer, pool_docs, raw, workdir / "pool-raw")
    items = items_by_doc(pool_run.report)
    oof = cross_validate(raw, items, [d.path for d in pool_docs], [d.path for d in eval_docs],
                         settings.review_threshold, candidates)
    return run_scorer(scorer, eval_docs, oof, workdir / "eval", json_out=json_out, md_out=md_out)


def _raw_ece(items: Sequence[Item]) -> float | None:
    """ECE of the raw scores taken as confidences (the scorer's definition, computed in-process)."""
    return calibration.reliability((it.score, it.correct) for it in items)[0]


def _extractor_version() -> str:
    from pipeline.extract.rules import VERSION

    return VERSION


def temp_workdir() -> tempfile.TemporaryDirectory[str]:
    """A scratch folder for prediction files and reports."""
    return tempfile.TemporaryDirectory(prefix="atlas-eval-")
