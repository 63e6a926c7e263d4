"""The embedded worker: drains the durable outbox queue in-process, with retries and a dead-letter state."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Sequence

from pipeline.domain.errors import TransientError
from pipeline.domain.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]


class Worker:
    """Claims events, runs the handler for their type, acks; failures back off and end dead after N tries."""

    def __init__(self, queue, handlers: dict[str, Handler], *, poll_s: float = 0.5,  # type: ignore[no-untyped-def]
                 on_dead: Callable[[Event, str], None] | None = None, base_backoff_s: float = 2.0) -> None:
        self.queue = queue
        self.handlers = handlers
        self.poll_s = poll_s
        self.on_dead = on_dead
        self.base_backoff_s = base_backoff_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._companions: list[Callable[[], None]] = []
        self._claimed: dict[int, list[int]] = {}  # thread ident -> queue seqs it holds (for release at shutdown)
        self._claimed_lock = threading.Lock()

    def run_once(self) -> int:
        """Handle the events due now (a batch for batch handlers); returns how many were taken."""
        claimed = self.queue.claim(tuple(self.handlers), limit=1)
        try:
            self._hold(claimed)
            return self._run_claimed(claimed)
        finally:
            self._hold([])

    def _hold(self, claimed: list[tuple[int, Event, int]]) -> None:
        with self._claimed_lock:
            if claimed:
                self._claimed[threading.get_ident()] = [seq for seq, _, _ in claimed]
            else:
                self._claimed.pop(threading.get_ident(), None)

    def _run_claimed(self, claimed: list[tuple[int, Event, int]]) -> int:
        if claimed:
            handler = self.handlers[claimed[0][1].type]
            size = getattr(handler, "batch_size", 1)
            if size > 1:
                types = tuple(t for t, h in self.handlers.items() if h is handler)
                claimed += self.queue.claim(types, limit=size - 1)
                self._hold(claimed)
                self._handle_batch(handler, claimed)
                return len(claimed)
        for seq, event, attempt in claimed:
            if self._stop.is_set():
                self.queue.release(seq)
                continue
            self._handle(seq, event, attempt)
        return len(claimed)

    def _handle_batch(self, handler: Handler, claimed: list[tuple[int, Event, int]]) -> None:
        consumer = f"worker:{handler.__class__.__name__}"
        fresh = [(seq, ev, att) for seq, ev, att in claimed if not self.queue.was_processed(consumer, ev.id)]
        try:
            if fresh:
                handler([ev for _, ev, _ in fresh])  # type: ignore[arg-type]
        except Exception as exc:  # the whole batch is retried; the handler is idempotent per document
            log.exception("batch handler failed", extra={"events": len(fresh)})
            for seq, ev, att in claimed:
                self._retry(seq, ev, att, f"{type(exc).__name__}: {exc}")
            return
        for seq, ev, _ in claimed:
            self.queue.mark_processed(consumer, ev.id)
            self.queue.ack(seq)

    def _handle(self, seq: int, event: Event, attempt: int) -> None:
        consumer = f"worker:{event.type}"
        if self.queue.was_processed(consumer, event.id):
            self.queue.ack(seq)
            return
        try:
            self.handlers[event.type](event)
        except TransientError as exc:
            self._retry(seq, event, attempt, str(exc))
            return
        except Exception as exc:  # a handler bug: retried, then dead-lettered, never silently dropped
            log.exception("event handler failed", extra={"event_id": event.id, "event_type": event.type})
            self._retry(seq, event, attempt, f"{type(exc).__name__}: {exc}")
            return
        self.queue.mark_processed(consumer, event.id)
        self.queue.ack(seq)

    def _retry(self, seq: int, event: Event, attempt: int, error: str) -> None:
        status = self.queue.nack(seq, error, retry_in_s=min(60.0, self.base_backoff_s * 2 ** (attempt - 1)))
        log.warning("event will be retried" if status == "pending" else "event dead-lettered",
                    extra={"event_id": event.id, "event_type": event.type, "attempt": attempt})
        if status == "dead" and self.on_dead is not None:
            self.on_dead(event, error)

    def drain(self, *, timeout_s: float = 60.0, max_events: int = 10_000) -> int:
        """Handle events until none are due (tests and the CLI); bounded in time and count."""
        deadline = time.monotonic() + timeout_s
        n = 0
        while time.monotonic() < deadline and n < max_events:
            got = self.run_once()
            if not got:
                break
            n += got
        return n

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                got = self.run_once()
            except Exception:
                log.exception("worker loop error")
                got = 0
            if not got:
                self._stop.wait(self.poll_s)

    def start(self, threads: int = 1) -> None:
        """Run in background daemon threads."""
        for i in range(threads):
            th = threading.Thread(target=self._loop, name=f"atlas-worker-{i}", daemon=True)
            th.start()
            self._threads.append(th)

    def also_stop(self, stop: Callable[[], None]) -> None:
        """Stop a companion loop (the webhook sender) when the worker stops."""
        self._companions.append(stop)

    def request_stop(self) -> None:
        """Take no new events; the ones being handled run on."""
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        """Wait for the worker threads to end (all within timeout_s); True when none is left running."""
        deadline = time.monotonic() + timeout_s
        for th in self._threads:
            th.join(max(0.0, deadline - time.monotonic()))
        return not any(th.is_alive() for th in self._threads)

    def release_unfinished(self) -> int:
        """Give the events still being handled back to the queue (shutdown after the grace); how many."""
        with self._claimed_lock:
            seqs = [seq for held in self._claimed.values() for seq in held]
            self._claimed.clear()
        for seq in seqs:
            self.queue.release(seq)
        return len(seqs)

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Finish the current event and stop; what did not finish within timeout_s goes back to the queue."""
        self.request_stop()
        finished = self.join(timeout_s)
        if not finished:
            self.release_unfinished()
        for stop in self._companions:
            stop()
        return finished


def run_stages(queue, handlers: dict[str, Handler], stages: Sequence[Sequence[str]], *,  # type: ignore[no-untyped-def]
               done: Callable[[], bool], timeout_s: float, on_dead: Callable[[Event, str], None] | None = None,
               poll_s: float = 0.2, tick: Callable[[], None] | None = None) -> bool:
    """Run each stage (a group of event types) in its own worker thread until done() or the deadline.

    One process, one thread per stage: document n+1 is parsed and extracted while document n is embedded
    (the embedder and OCR release the GIL). Memory stays bounded: each stage holds one event (or one batch)
    at a time and hands over through the durable queue. Events left due at the end are drained here.
    Returns whether done() became true before the deadline.
    """
    deadline = time.monotonic() + timeout_s
    workers = []
    for types in stages:
        w = Worker(queue, {t: handlers[t] for t in types if t in handlers}, poll_s=poll_s, on_dead=on_dead)
        w.start(1)
        workers.append(w)
    finished = False
    try:
        while time.monotonic() < deadline:
            if tick is not None:
                tick()
            if done():
                finished = True
                break
            time.sleep(poll_s)
    finally:
        for w in workers:
            w.stop(timeout_s=max(30.0, deadline - time.monotonic()))  # never leave a writer mid-batch
    Worker(queue, handlers, on_dead=on_dead).drain(timeout_s=max(1.0, deadline - time.monotonic()))
    return finished
