"""`make bench`: run every benchmark, write bench/results/<name>.json and a combined Markdown report."""
from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCHES = ("bench.parse_bench", "bench.search_bench", "bench.extract_bench", "bench.load_bench",
           "bench.ingest_bench")
OUT = Path(__file__).resolve().parent / "results"


def _machine() -> dict:
    return {"cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()}


def _markdown(results: dict) -> str:
    lines = [f"# Atlas benchmarks — {time.strftime('%Y-%m-%d %H:%M:%S')}", "",
             f"machine: {results['machine']}", ""]
    for name, figures in results["benches"].items():
        lines += [f"## {name}", "", "| figure | value |", "|---|---|"]
        for k, v in figures.items():
            lines.append(f"| {k} | {json.dumps(v) if isinstance(v, (dict, list)) else v} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default); a failing one is reported, the rest still run."""
    wanted = set(argv or sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": _machine(), "benches": {}}
    failed = False
    for module in BENCHES:
        short = module.split(".")[-1]
        if wanted and short not in wanted:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            results["benches"][short] = {"error": f"not available: {exc}"}
            continue
        print(f"running {short} …", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            figures = mod.run()
        except Exception as exc:  # one broken bench must not hide the others' figures
            figures = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
        figures["wall_s"] = round(time.monotonic() - started, 1)
        results["benches"][short] = figures
        (OUT / f"{short}.json").write_text(json.dumps(figures, indent=2))
    (OUT / "bench.json").write_text(json.dumps(results, indent=2))
    (OUT / "bench.md").write_text(_markdown(results))
    print(_markdown(results))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
