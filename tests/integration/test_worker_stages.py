"""Pipelined stages: the index stage of document n runs while document n+1 is parsed, over the real queue."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.adapters.sql_engine import make_engine, migrate
from pipeline.adapters.sql_uow import SqlEventQueue, SqlUnitOfWorkFactory
from pipeline.domain.events import DOCUMENT_UPLOADED, EXTRACTION_COMPLETED, Event, document_uploaded, \
    extraction_completed
from pipeline.worker import run_stages

DOCS = 4
STEP_S = 0.3


@pytest.fixture()
def engine(tmp_path: Path):
    eng = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    migrate(eng)
    return eng


def _add(engine, ev: Event) -> None:
    with SqlUnitOfWorkFactory(engine)() as u:
        u.outbox.add(ev)
        u.commit()


def test_stages_overlap_and_every_event_is_handled(engine):
    spans: dict[str, list[tuple[str, float, float]]] = {"parse": [], "index": []}
    threads: dict[str, set[int]] = {"parse": set(), "index": set()}

    def parse(ev: Event) -> None:
        t0 = time.monotonic()
        time.sleep(STEP_S)
        spans["parse"].append((ev.payload["document_id"], t0, time.monotonic()))
        threads["parse"].add(threading.get_ident())
        _add(engine, extraction_completed(ev.org_id, ev.payload["document_id"], 1))

    def index(ev: Event) -> None:
        t0 = time.monotonic()
        time.sleep(STEP_S)
        spans["index"].append((ev.payload["document_id"], t0, time.monotonic()))
        threads["index"].add(threading.get_ident())

    for i in range(DOCS):
        _add(engine, document_uploaded("o1", f"d{i}", f"h{i}"))
    queue = SqlEventQueue(engine)
    started = time.monotonic()
    finished = run_stages(queue, {DOCUMENT_UPLOADED: parse, EXTRACTION_COMPLETED: index},
                          [(DOCUMENT_UPLOADED,), (EXTRACTION_COMPLETED,)],
                          done=lambda: len(spans["index"]) == DOCS, timeout_s=30, poll_s=0.05)
    wall = time.monotonic() - started
    assert finished
    assert sorted(d for d, _, _ in spans["index"]) == [f"d{i}" for i in range(DOCS)]
    assert threads["parse"].isdisjoint(threads["index"])  # one thread per stage
    overlapped = [(p, x) for p in spans["parse"] for x in spans["index"]
                  if p[0] != x[0] and p[1] < x[2] and x[1] < p[2]]
    assert overlapped, "no index step ran while another document was parsed"
    assert wall < 2 * DOCS * STEP_S  # sequential would take 2 × DOCS × STEP_S
    assert not queue.depth().get("pending") and not queue.depth().get("claimed")


def test_deadline_stops_the_stages_and_reports_unfinished(engine):
    _add(engine, document_uploaded("o1", "d0", "h0"))
    seen: list[str] = []
    finished = run_stages(SqlEventQueue(engine), {DOCUMENT_UPLOADED: lambda ev: seen.append(ev.id)},
                          [(DOCUMENT_UPLOADED,)], done=lambda: False, timeout_s=0.5, poll_s=0.05)
    assert not finished
    assert len(seen) == 1
