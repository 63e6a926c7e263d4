"""Index store figures (run by hand): time to publish a one-document change beside a large organisation.

    PYTHONPATH=$PWD nice python tests/search/index_store_measure.py /tmp/measure 20000
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.adapters.chroma_index import ChromaIndexReader, ChromaIndexWriter
from pipeline.ports import Chunk

WORDS = ("tenant landlord premises rent holdover assignment sublet insurance repair default notice term renewal "
         "option escalation operating expenses taxes utilities").split()


def chunks(org: str, doc: str, n: int, rng: np.random.Generator) -> list[Chunk]:
    """n chunks of ~600 characters of lease-like words."""
    return [Chunk(id=f"{org}:{doc}:{i}", org_id=org, document_id=doc, page=1 + i // 4, start=i * 600,
                  end=i * 600 + 600, text=" ".join(rng.choice(WORDS, 85)), metadata={"filename": f"{doc}.pdf"})
            for i in range(n)]


def vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    vecs = rng.standard_normal((n, 384)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def main(root: Path, big: int) -> None:
    """Build a generation with one large organisation, then time small changes to another one."""
    rng = np.random.default_rng(1)
    shutil.rmtree(root, ignore_errors=True)
    started = time.monotonic()
    with ChromaIndexWriter(root, grace_s=0).batch() as w:
        for i in range(0, big, 500):
            part = chunks("org-big", f"doc-{i // 2000}", 500, rng)
            w.upsert(part, vectors(len(part), rng))
    print(f"initial generation, {big} chunks: {time.monotonic() - started:.1f} s")
    for run in range(3):
        part = chunks("org-small", f"doc-{run}", 370, rng)
        started = time.monotonic()
        batch = ChromaIndexWriter(root, grace_s=0).batch()
        with batch as w:
            w.upsert(part, vectors(len(part), rng))
        elapsed = time.monotonic() - started
        files = [p for p in (root / str(batch.generation)).rglob("*") if p.is_file()]
        written = sum(p.stat().st_size for p in files if p.stat().st_nlink == 1)  # not shared with N-1
        total = sum(p.stat().st_size for p in files)
        print(f"publish a 370-chunk document of another organisation: {elapsed:.2f} s, "
              f"{written / 1e6:.1f} MB written of a {total / 1e6:.1f} MB generation")
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"root size {size / 1e6:.0f} MB (all generations kept)")
    reader = ChromaIndexReader(root)
    started = time.monotonic()
    reader.query("org-small", vectors(1, rng)[0], top_k=5)
    print(f"reader open + first org-small query: {time.monotonic() - started:.2f} s")
    started = time.monotonic()
    reader.query("org-big", vectors(1, rng)[0], top_k=5)
    print(f"first org-big query: {time.monotonic() - started:.2f} s")
    reader.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
