"""Stage shares of a py-spy profile of `atlas ingest` (the profile that guided #17).

Record:  py-spy record --format raw --rate 20 -o profile.txt -- python -m bench.ingest_bench --child atlas ...
Summarise:  python -m bench.profile_stages profile.txt   (prints JSON: share of samples per stage)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# First match wins, checked from the innermost frame outwards: a stack belongs to the deepest stage it is in.
STAGES = {
    "embed": ("embedder.py", "sentence_transformers", "onnxruntime", "torch/nn"),
    "ocr": ("parse/ocr.py",),
    "parse": ("pipeline/parse/",),
    "extract": ("pipeline/extract/",),
    "chunk": ("index/chunk.py",),
    "index_write": ("chroma_index.py", "chromadb"),
    "queue_and_db": ("sqlalchemy", "sql_uow.py"),
}


def stage_of(stack: str) -> str:
    """The stage a collapsed stack (outer;…;inner) belongs to, or 'other'."""
    for frame in reversed(stack.split(";")):
        for stage, marks in STAGES.items():
            if any(m in frame for m in marks):
                return stage
    return "other"


def summarise(path: Path) -> dict[str, float]:
    """Share of samples per stage (idle samples count as 'other')."""
    counts: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        counts[stage_of(stack)] = counts.get(stage_of(stack), 0) + int(n)
    total = sum(counts.values()) or 1
    return {k: round(v / total, 3) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    print(json.dumps({arg: summarise(Path(arg)) for arg in sys.argv[1:]}, indent=2))
