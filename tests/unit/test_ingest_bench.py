"""The ingest bench's pieces: its folders, stage timer, 50-page lease and report (the bench itself is `make bench`)."""
from __future__ import annotations

import threading
import time

import pytest

from bench import ingest_bench

pytestmark = pytest.mark.skipif(not (ingest_bench.SHARED / "leasepool" / "docs").exists(),
                                reason=f"shared documents not found under {ingest_bench.SHARED}")


def test_text_folder_holds_realdev_and_the_text_documents_of_leasepool():
    folders = ingest_bench.corpora()
    text = folders["realdev+leasepool_text"]
    assert {p.suffix.lower() for p in text} <= {".txt", ".html", ".htm"}
    assert any(p.parent.parent.name == "realdev" for p in text) and any("leasepool" in str(p) for p in text)
    assert len(folders["devset"]) >= 30


def test_timer_sums_each_stage_across_threads():
    timer = ingest_bench._Timer()
    nap = timer.wrap("embed", lambda s: time.sleep(s))
    threads = [threading.Thread(target=nap, args=(0.05,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert timer.calls == {"embed": 3}
    assert 0.15 <= timer.seconds["embed"] < 1.0


def test_latency_lease_has_fifty_text_pages_and_its_probe_is_on_the_middle_one():
    import pypdfium2 as pdfium

    data, probe = ingest_bench._latency_pdf()
    pdf = pdfium.PdfDocument(data)
    try:
        assert len(pdf) == ingest_bench.LATENCY_PAGES
        texts = [pdf[i].get_textpage().get_text_range() for i in (0, 25, 49)]
    finally:
        pdf.close()
    assert len(probe.split()) >= 8
    assert probe in texts[1] and probe not in texts[0]
    assert len(texts[2].strip()) > 1000  # the last page is full text too


def test_report_has_ratios_stages_and_latency():
    side = {"ingest_s": 10.0, "chunks": 5, "truncated_chunks": 0, "text_embedded_share": 1.0,
            "wordpieces_embedded": 700, "peak_rss_mb": 500.0, "query": {"p50_ms": 5.0, "p95_ms": 9.0},
            "loadavg_before": [1.0, 1.0, 1.0], "loadavg_after": [1.5, 1.0, 1.0],
            "stages_s": {"parse": 1.0, "embed": 6.0}}
    result = {"machine": {"cores": 2, "platform": "linux", "python": "3.11"}, "loadavg_start": [1, 1, 1],
              "loadavg_end": [2, 1, 1],
              "folders": {"f": {"files": 4, "baseline": {**side, "text_embedded_share": 0.27},
                                "atlas": {**side, "latency_50_pages": {"upload_to_ready_s": 2.0,
                                                                       "upload_to_searchable_s": 7.5}},
                                "ratios_atlas_over_baseline": {"files_per_s": 1.2, "wordpieces_embedded": 3.7,
                                                               "wordpieces_per_embed_s": 2.5, "peak_rss": 0.9,
                                                               "query_p95": 0.5}}}}
    md = ingest_bench.markdown(result)
    assert "| f | baseline | 4 | 10.0 | 0.4 |" in md and "| 27% |" in md and "| 100% |" in md
    assert "| f | 1.2 | 3.7 | 2.5 | 0.9 | 0.5 |" in md
    assert "| f | atlas | parse 1.0, embed 6.0 |" in md
    assert "ready 2.0 s" in md and "searchable 7.5 s" in md
