"""A whole devset portfolio in one organisation: each amendment finds its own lease among all the others."""
from __future__ import annotations

from pathlib import Path


def test_every_text_amendment_links_to_its_lease_in_a_full_portfolio(stack, truth, devset: Path) -> None:
    # amendments first, so most links are made when their lease arrives later
    rows = sorted((r for r in truth.values() if r["format"] != "pdf_image"), key=lambda r: r["kind"] != "amendment")
    ids = {r["file"]: stack.upload(stack.org_a, Path(r["file"]).name, (devset / r["file"]).read_bytes(),
                                   process=False) for r in rows}
    stack.worker.drain(timeout_s=300)
    by_id = {v: k for k, v in ids.items()}
    got = {f: by_id.get(stack.document(stack.org_a, i).amends_document_id) for f, i in ids.items()}
    expected = {r["file"]: r["amends"] for r in rows}
    assert sum(1 for v in expected.values() if v) >= 3
    assert got == expected
