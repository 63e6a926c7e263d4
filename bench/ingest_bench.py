"""Ingest bench (#17): Atlas against the llama-index default pipeline on the same folder, in the same run.

Each side runs in its own subprocess (peak RSS is the child's own maximum resident set):
- baseline: SimpleDirectoryReader → SentenceSplitter(1024, 200) → the same shipped MiniLM (sentence-transformers,
  fp32, llama-index's default batch of 10) → Chroma; then 80 retrievals (top 5).
- atlas: `atlas ingest FOLDER` as shipped (parse, OCR, extract, chunk, embed, index write; timed per stage by
  wrapping the stage functions), then 80 hybrid retrievals, then (first folder) a 50-page text lease uploaded to
  the running embedded worker: seconds to ready and to searchable.

Run: python -m bench.ingest_bench [--before]   (--before adds Atlas with the torch embedder and no stage overlap)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUT = Path(__file__).resolve().parent / "results"
QUERIES = 80
MODEL_WINDOW = 256
SPLIT_LIMIT_S = 30  # per document: llama-index's SentenceSplitter ran for minutes on a devset file
LATENCY_SOURCE = "P14_cutter_buck_tableau_sublease_seattle.txt"
LATENCY_PAGES = 50
GOALS = {"files_per_s_ratio_min": 1.0, "files_per_s_ratio_stretch": 2.0, "text_embedded_share": 1.0,
         "atlas_peak_rss_mb_max": 1536, "query_p95_ms_at_100k_chunks_max": 50, "upload_to_ready_s_max": 5.0,
         "upload_to_searchable_s_max": 15.0}


def corpora() -> dict[str, list[Path]]:
    """The folders: realdev + the text documents of leasepool (PDFs left out), and the whole devset."""
    text = sorted((SHARED / "realdev" / "docs").glob("*")) + sorted(
        p for p in (SHARED / "leasepool" / "docs").glob("*") if p.suffix.lower() in (".txt", ".html", ".htm"))
    return {"realdev+leasepool_text": text, "devset": sorted((SHARED / "devset" / "docs").glob("*"))}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM belongs to the exec'd image, while ru_maxrss keeps the maximum of the
    process that forked it (Linux carries it across exec), which made every child report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _percentiles(ms: Sequence[float]) -> dict[str, float]:
    import numpy as np

    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def _queries(folder: Path, n: int = QUERIES) -> list[str]:
    """The search question set, then 5-10 word phrases cut from the folder's files (deterministic)."""
    import random

    from bench.search_bench import questions

    out = [q["question"] for q in questions()]
    words: list[str] = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".txt", ".html", ".htm"):
            words += p.read_text(errors="replace").split()[:4000]
    rng = random.Random(17)
    while len(out) < n and len(words) > 20:
        start = rng.randrange(0, len(words) - 10)
        out.append(" ".join(words[start:start + rng.randint(5, 10)]))
    return out[:n]


# ------------------------------------------------------------------------------------------------ baseline side


def _baseline(folder: Path, work: Path) -> dict[str, Any]:
    """llama-index defaults over folder; every figure of the baseline side."""
    t0 = time.monotonic()
    import chromadb
    import torch
    from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from sentence_transformers import SentenceTransformer

    from pipeline.adapters.minilm_embedder import default_model_path

    torch.set_num_threads(2)
    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    counts = {"texts": 0, "truncated": 0, "wordpieces_embedded": 0, "wordpieces_total": 0, "embed_s": 0.0}

    class MiniLM(BaseEmbedding):
        """The shipped MiniLM as llama-index's HuggingFaceEmbedding would run it (fp32, normalised)."""

        def _vecs(self, texts: list[str]) -> list[list[float]]:
            t = time.monotonic()
            for ids in model.tokenizer(texts, add_special_tokens=True)["input_ids"]:
                counts["texts"] += 1
                counts["wordpieces_total"] += len(ids)
                counts["wordpieces_embedded"] += min(len(ids), MODEL_WINDOW)
                counts["truncated"] += len(ids) > MODEL_WINDOW
            out = model.encode(texts, batch_size=len(texts), normalize_embeddings=True).tolist()
            counts["embed_s"] += time.monotonic() - t
            return out

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._vecs([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._vecs([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._vecs(texts)

    Settings.embed_model = MiniLM()
    Settings.llm = None
    t = time.monotonic()
    docs = SimpleDirectoryReader(str(folder)).load_data()
    read_s = time.monotonic() - t
    t = time.monotonic()
    splitter = SentenceSplitter(chunk_size=1024, chunk_overlap=200)
    nodes, split_failed = [], []

    def _too_slow(*_: Any) -> None:
        raise TimeoutError(f"split took over {SPLIT_LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, _too_slow)
    for doc in docs:  # one call per document gives the same nodes; a document the splitter fails on is skipped
        signal.setitimer(signal.ITIMER_REAL, SPLIT_LIMIT_S)
        try:
            nodes += splitter.get_nodes_from_documents([doc])
        except (RecursionError, TimeoutError) as exc:  # seen on the devset: nltk recursing for minutes
            split_failed.append(f"{doc.metadata.get('file_name', '?')}: {type(exc).__name__}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)
    split_s = time.monotonic() - t
    client = chromadb.PersistentClient(path=str(work / "chroma"),
                                       settings=chromadb.config.Settings(anonymized_telemetry=False))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
    t = time.monotonic()
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store))
    embed_write_s = time.monotonic() - t
    ingest_s = time.monotonic() - t0
    embedded = dict(counts)
    retriever = index.as_retriever(similarity_top_k=5)
    qs = _queries(folder)
    retriever.retrieve(qs[0])
    ms = []
    for q in qs:
        t = time.monotonic()
        retriever.retrieve(q)
        ms.append((time.monotonic() - t) * 1000)
    return {"ingest_s": round(ingest_s, 1), "chunks": len(nodes), "truncated_chunks": embedded["truncated"],
            "documents_read": len(docs), "documents_the_splitter_failed_on": split_failed,
            "chars_read": sum(len(d.text) for d in docs),
            "wordpieces_embedded": embedded["wordpieces_embedded"],
            "text_embedded_share": round(embedded["wordpieces_embedded"] / max(1, embedded["wordpieces_total"]), 3),
            "stages_s": {"read": round(read_s, 1), "split": round(split_s, 1),
                         "embed": round(embedded["embed_s"], 1),
                         "index_write": round(embed_write_s - embedded["embed_s"], 1)},
            "query": _percentiles(ms)}


# ---------------------------------------------------------------------------------------------------- atlas side


class _Timer:
    """Seconds and calls per stage, summed over threads (stages overlap, so they can add up past the wall)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[stage] = self.seconds.get(stage, 0.0) + time.monotonic() - t
                    self.calls[stage] = self.calls.get(stage, 0) + 1
        return timed


class _TimedExtractor:
    def __init__(self, inner: Any, timer: _Timer) -> None:
        self._inner = inner
        self.extract = timer.wrap("extract", inner.extract)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _TimedEmbedder:
    def __init__(self, inner: Any, timer: _Timer) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.embed = timer.wrap("embed", inner.embed)
        self.warm = getattr(inner, "warm", lambda: None)


def _instrument(timer: _Timer) -> None:
    """Time each stage of the shipped pipeline by wrapping its functions (no change to what runs)."""
    from pipeline import cli
    from pipeline.adapters import chroma_index
    from pipeline.parse import pdf
    from pipeline.usecases import index

    pdf.ocr_pages = timer.wrap("ocr", pdf.ocr_pages)  # type: ignore[assignment]
    index.chunk_document = timer.wrap("chunk", index.chunk_document)  # type: ignore[assignment]
    for name in ("begin", "upsert", "delete_document", "commit"):
        setattr(chroma_index.ChromaIndexWriter, name,
                timer.wrap("index_write", getattr(chroma_index.ChromaIndexWriter, name)))
    original = cli._services

    def services(migrate: bool = False) -> Any:
        from dataclasses import replace

        from pipeline.adapters.chroma_search import build_embedder

        svc = original(migrate=migrate)
        svc = replace(svc, parse=timer.wrap("parse", svc.parse), extractor=_TimedExtractor(svc.extractor, timer))
        svc.extras["embedder"] = _TimedEmbedder(build_embedder(svc.settings), timer)
        return svc

    cli._services = services  # type: ignore[assignment]


def _latency_pdf(pages: int = LATENCY_PAGES) -> tuple[bytes, str]:
    """A text-layer lease of `pages` pages (Courier, 40 lines of ≤95 characters) from a real leasepool lease,
    and a probe query: the longest line of its middle page (an answer that exists only once it is indexed)."""
    import io
    import textwrap

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    text = (SHARED / "leasepool" / "docs" / LATENCY_SOURCE).read_text(errors="replace")
    lines = [ln for para in text.splitlines() for ln in (textwrap.wrap(para, 95) or [""])]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    for page in range(pages):
        c.setFont("Courier", 9)
        for i, line in enumerate(lines[page * 40:(page + 1) * 40]):
            c.drawString(40, 740 - 16 * i, line)
        c.showPage()
    c.save()
    middle = lines[(pages // 2) * 40:(pages // 2 + 1) * 40]
    return buf.getvalue(), max(middle, key=len).strip()


def _latency(svc: Any, org_id: str) -> dict[str, Any]:
    """Upload one 50-page text lease to the running embedded worker: seconds to ready and to searchable."""
    from pipeline.adapters.chroma_search import build_retriever
    from pipeline.cli import start_worker
    from pipeline.usecases.ingest import ingest as ingest_one

    data, probe = _latency_pdf()
    retriever = build_retriever(svc.settings, svc.extras["embedder"])
    worker = start_worker(svc)
    try:
        t0 = time.monotonic()
        doc, _ = ingest_one(org_id, "latency-50-pages.pdf", data, uow_factory=svc.uow_factory, blobs=svc.blobs,
                            check_upload=svc.check_upload)
        ready = searchable = None
        while time.monotonic() - t0 < 60:
            if ready is None:
                with svc.uow_factory() as uow:
                    status = uow.documents.get(org_id, doc.id).status.value
                if status in ("ready", "failed"):
                    ready = time.monotonic() - t0
                    if status == "failed":
                        break
            if ready is not None:
                hits = retriever.retrieve(org_id, probe, top_k=5)
                if any(h.chunk.document_id == doc.id for h in hits):
                    searchable = time.monotonic() - t0
                    break
            time.sleep(0.05)
    finally:
        worker.stop()
    return {"pages": LATENCY_PAGES, "bytes": len(data), "probe": probe, "upload_to_ready_s": ready and round(ready, 2),
            "upload_to_searchable_s": searchable and round(searchable, 2)}


def _atlas(folder: Path, work: Path, *, latency: bool, sequential: bool) -> dict[str, Any]:
    """`atlas ingest folder` with stage timers; then query latency and (optionally) the 50-page latency."""
    t0 = time.monotonic()
    os.environ["ATLAS_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from pipeline import cli, worker

    timer = _Timer()
    _instrument(timer)
    if sequential:  # the pre-#17 shape: one worker thread takes every event in queue order
        run_stages = worker.run_stages
        worker.run_stages = lambda q, h, stages, **kw: run_stages(  # type: ignore[assignment]
            q, h, [tuple(t for s in stages for t in s)], **kw)
    svc_box: dict[str, Any] = {}
    make = cli._services
    cli._services = lambda migrate=False: svc_box.setdefault("svc", make(migrate=migrate))  # type: ignore
    cli.main(["ingest", str(folder), "--org", "bench"], standalone_mode=False)
    ingest_s = time.monotonic() - t0
    ingest_stages, ingest_calls = dict(timer.seconds), dict(timer.calls)  # before queries add embed calls
    svc = svc_box["svc"]
    embedder = svc.extras["embedder"].inner
    with svc.uow_factory() as uow:
        org_id = uow.keys.get_org_by_name("bench").id
    from pipeline.adapters.chroma_search import build_retriever

    retriever = build_retriever(svc.settings, svc.extras["embedder"])
    qs = _queries(folder)
    retriever.retrieve(org_id, qs[0], top_k=5)
    ms = []
    for q in qs:
        t = time.monotonic()
        retriever.retrieve(org_id, q, top_k=5)
        ms.append((time.monotonic() - t) * 1000)
    stages = {k: round(v, 1) for k, v in sorted(ingest_stages.items())}
    if "parse" in stages:
        stages["parse_without_ocr"] = round(stages["parse"] - stages.get("ocr", 0.0), 1)
    out: dict[str, Any] = {
        "ingest_s": round(ingest_s, 1), "embed_runtime": svc.settings.embed_runtime,
        "embedder": type(embedder).__name__ if getattr(embedder, "fallback", None) is None else "fallback",
        "stage_overlap": not sequential, "chunks": _chunk_count(svc, org_id),
        "statuses": _statuses(svc, org_id),
        "stages_s": stages, "stage_calls": dict(sorted(ingest_calls.items())), "query": _percentiles(ms)}
    if hasattr(embedder, "embedded_tokens"):
        # Long chunks run over several windows (windowed_chunks), so no word piece is cut: the whole text.
        out.update(wordpieces_embedded=embedder.embedded_tokens, truncated_chunks=0,
                   windowed_chunks=embedder.windowed_texts, duplicates_skipped=embedder.duplicates_skipped,
                   text_embedded_share=1.0, min_cosine_to_fp32=embedder.min_cosine_to_fp32)
    if latency:
        out["latency_50_pages"] = _latency(svc, org_id)
    return out


def _statuses(svc: Any, org_id: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from pipeline.adapters import sql_tables as t

    with svc.uow_factory() as uow:
        rows = uow.conn.execute(select(t.documents.c.status, func.count()).where(t.documents.c.org_id == org_id)
                                .group_by(t.documents.c.status)).all()
    return {str(s): int(n) for s, n in rows}


def _chunk_count(svc: Any, org_id: str) -> int:
    from pipeline.adapters.chroma_index import ChromaIndexReader

    reader = ChromaIndexReader(svc.settings.chroma_path)
    try:
        col = reader.collection(org_id)
        return int(col.count()) if col is not None else 0
    finally:
        reader.close()


# ------------------------------------------------------------------------------------------------------- parent


def _child(side: str, folder: Path, extra: Sequence[str] = (), env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one side in a fresh interpreter; its JSON figures plus load averages around it."""
    with tempfile.TemporaryDirectory(prefix=f"atlas-ingest-{side}-") as tmp:
        out = Path(tmp) / "out.json"
        before = _load()
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "bench.ingest_bench", "--child", side, "--folder", str(folder),
                               "--work", tmp, "--out", str(out), *extra], cwd=REPO, capture_output=True,
                              text=True, timeout=1800, env={**os.environ, **(env or {})})
        if proc.returncode != 0:
            return {"error": proc.stderr[-3000:], "loadavg_before": before}
        figures = json.loads(out.read_text())
        figures.update(process_wall_s=round(time.monotonic() - started, 1), loadavg_before=before,
                       loadavg_after=_load())
        return figures


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _warm_int8(cache: Path) -> dict[str, Any]:
    """Build the int8 model once (as a fresh install's first use would) so the timed runs only load it."""
    from pipeline.adapters.onnx_embedder import OnnxMiniLMEmbedder

    t = time.monotonic()
    e = OnnxMiniLMEmbedder(cache)
    e.warm()
    return {"int8_build_or_load_s": round(time.monotonic() - t, 1), "min_cosine_to_fp32": e.min_cosine_to_fp32}


def run(*, before: bool = False, names: Sequence[str] | None = None, stem: str = "ingest_bench") -> dict[str, Any]:
    """Both sides on each folder, back to back; ratios Atlas/baseline; writes <stem>.md beside the JSON."""
    result: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                                          "python": sys.version.split()[0]},
                              "loadavg_start": _load(), "goals": GOALS, "folders": {}}
    from pipeline.settings import load_settings

    cache_dir = load_settings().embed_cache_dir  # where `atlas` itself keeps the int8 build
    result["int8_model"] = _warm_int8(cache_dir / "onnx")
    for i, (name, files) in enumerate(corpora().items()):
        if names and name not in names:
            continue
        with tempfile.TemporaryDirectory(prefix="atlas-ingest-folder-") as tmp:
            folder = Path(tmp)
            for f in files:
                (folder / f.name).symlink_to(f)
            row: dict[str, Any] = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
            print(f"ingest bench: {name}: baseline …", file=sys.stderr, flush=True)
            row["baseline"] = base = _child("baseline", folder)
            print(f"ingest bench: {name}: atlas …", file=sys.stderr, flush=True)
            env = {"ATLAS_EMBED_CACHE_DIR": str(cache_dir)}
            row["atlas"] = atlas = _child("atlas", folder, ["--latency"] if i == 0 else [], env)
            if before:
                print(f"ingest bench: {name}: atlas before #17 …", file=sys.stderr, flush=True)
                row["atlas_before"] = _child("atlas", folder, ["--sequential"],
                                             {"ATLAS_EMBED_RUNTIME": "torch"})
        if "error" not in base and "error" not in atlas:
            fps = {k: len(files) / row[k]["ingest_s"] for k in ("baseline", "atlas")}
            row["files_per_s"] = {k: round(v, 3) for k, v in fps.items()}
            row["ratios_atlas_over_baseline"] = {
                "files_per_s": _ratio(fps["atlas"], fps["baseline"]),
                "wordpieces_embedded": _ratio(atlas.get("wordpieces_embedded"), base["wordpieces_embedded"]),
                "wordpieces_per_embed_s": _ratio(atlas.get("wordpieces_embedded", 0) / max(1e-9, atlas["stages_s"].get("embed", 0)),
                                                 base["wordpieces_embedded"] / max(1e-9, base["stages_s"]["embed"])),
                "peak_rss": _ratio(atlas["peak_rss_mb"], base["peak_rss_mb"]),
                "query_p95": _ratio(atlas["query"]["p95_ms"], base["query"]["p95_ms"])}
        result["folders"][name] = row
    result["loadavg_end"] = _load()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{stem}.md").write_text(markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    """The comparison as Markdown tables: one row per folder and side, then Atlas's stage breakdown."""
    m = result["machine"]
    lines = [f"# Ingest: Atlas vs llama-index defaults — {time.strftime('%Y-%m-%d %H:%M')}", "",
             f"machine: {m['cores']} cores, {m['platform']}, Python {m['python']}; "
             f"load average at start {result['loadavg_start']}, at end {result.get('loadavg_end')}", "",
             "| folder | side | files | ingest s | files/s | chunks | truncated | text embedded | word pieces "
             "| peak RSS MB | query p50/p95 ms | load before → after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in result["folders"].items():
        for side in ("baseline", "atlas", "atlas_before"):
            f = row.get(side)
            if not f:
                continue
            if "error" in f:
                lines.append(f"| {name} | {side} | error: {f['error'][-200:]!r} |")
                continue
            share = f.get("text_embedded_share")
            lines.append(
                f"| {name} | {side} | {row['files']} | {f['ingest_s']} | {round(row['files'] / f['ingest_s'], 3)} "
                f"| {f.get('chunks')} | {f.get('truncated_chunks')} | {'' if share is None else f'{share:.0%}'} "
                f"| {f.get('wordpieces_embedded')} | {f['peak_rss_mb']} | {f['query']['p50_ms']}/{f['query']['p95_ms']} "
                f"| {f['loadavg_before']} → {f['loadavg_after']} |")
    lines += ["", "| folder | Atlas/baseline: files/s | word pieces embedded | word pieces per embed-second "
              "| peak RSS | query p95 |", "|---|---|---|---|---|---|"]
    for name, row in result["folders"].items():
        r = row.get("ratios_atlas_over_baseline")
        if r:
            lines.append(f"| {name} | {r['files_per_s']} | {r['wordpieces_embedded']} | {r['wordpieces_per_embed_s']} "
                         f"| {r['peak_rss']} | {r['query_p95']} |")
    lines += ["", "Stage seconds (summed per stage; Atlas's stages overlap in two threads, so they can add up past "
              "the wall time):", "", "| folder | side | stages |", "|---|---|---|"]
    for name, row in result["folders"].items():
        for side in ("baseline", "atlas", "atlas_before"):
            f = row.get(side)
            if f and "stages_s" in f:
                lines.append(f"| {name} | {side} | " + ", ".join(f"{k} {v}" for k, v in f["stages_s"].items()) + " |")
    for name, row in result["folders"].items():
        lat = (row.get("atlas") or {}).get("latency_50_pages")
        if lat:
            lines += ["", f"50-page text lease ({name} index loaded): upload → ready {lat['upload_to_ready_s']} s, "
                      f"→ searchable {lat['upload_to_searchable_s']} s (goals ≤ 5 s, ≤ 15 s)"]
    return "\n".join(lines) + "\n"


def _child_main(args: argparse.Namespace) -> None:
    work = Path(args.work)
    if args.child == "baseline":
        figures = _baseline(Path(args.folder), work)
    else:
        figures = _atlas(Path(args.folder), work, latency=args.latency, sequential=args.sequential)
    figures["peak_rss_mb"] = _peak_rss_mb()
    figures["torch_imported"] = "torch" in sys.modules
    Path(args.out).write_text(json.dumps(figures, indent=2))


def main(argv: list[str] | None = None) -> int:
    """Command line: the parent (default) or one side as a child."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=("baseline", "atlas"))
    parser.add_argument("--folder")
    parser.add_argument("--work")
    parser.add_argument("--out")
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--before", action="store_true", help="also run Atlas as before #17 (torch, no overlap)")
    parser.add_argument("--folders", nargs="*", help="only these folders")
    args = parser.parse_args(argv)
    if args.child:
        _child_main(args)
        return 0
    name = "ingest_bench_before" if args.before else "ingest_bench"
    result = run(before=args.before, names=args.folders, stem=name)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
