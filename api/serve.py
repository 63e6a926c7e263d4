"""`atlas serve`'s HTTP server: waitress with a clear bind error, an in-flight count, and a graceful stop.

On SIGTERM/SIGINT: stop accepting connections, answer 503 to any new request on a kept-alive connection, end the
legacy pipeline waits early (their clients get a retryable error), let in-flight requests and the worker's current
event finish within the grace period, release what did not finish back to the queue, then return 0.
"""
from __future__ import annotations

import errno
import logging
import signal
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)

DRAINING_BODY = b'{"error": {"code": "shutting_down", "message": "the server is shutting down; retry"}}'


class PortInUse(RuntimeError):
    """The address is taken; the message says which and how to pick another."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use (another Atlas or another program); "
                         f"stop it, or choose another port with --port N or the PORT environment variable")
        self.host, self.port = host, port


class InFlight:
    """WSGI middleware counting requests until their response is closed; answers 503 once draining."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.active = 0
        self.draining = False
        self._cond = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.draining:
            start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Retry-After", "5"),
                                                       ("Connection", "close")])
            return [DRAINING_BODY]
        with self._cond:
            self.active += 1
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        return ClosingIterator(result, [self._done])

    def _done(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no request is in flight (True) or the timeout passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.active <= 0, timeout=max(0.0, timeout_s))


class Server:
    """One waitress server over the app; run() serves until a stop signal, then drains (see the module doc)."""

    def __init__(self, app: Any, *, host: str, port: int, threads: int, max_body: int,
                 grace_s: float, worker: Any = None, on_drain: Callable[[], None] | None = None) -> None:
        from waitress import create_server

        self.inflight = InFlight(app)
        self.worker = worker
        self.grace_s = grace_s
        self.on_drain = on_drain
        self.stop_requested = threading.Event()
        try:
            self.server = create_server(self.inflight, host=host, port=port, threads=threads, channel_timeout=300,
                                        max_request_body_size=max_body)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise
        self.map: dict[int, Any] = getattr(self.server, "map", None) or self.server._map

    @property
    def listeners(self) -> list[Any]:
        """The listening sockets' dispatchers (one per resolved address)."""
        from waitress.server import BaseWSGIServer

        return [d for d in list(self.map.values()) if isinstance(d, BaseWSGIServer)]

    @property
    def bound(self) -> list[tuple[str, int]]:
        """(address, port) of every listening socket, as actually bound."""
        return [(str(s.effective_host), int(s.effective_port)) for s in self.listeners]

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT request a graceful stop (main thread only)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_requested.set())

    def run(self) -> bool:
        """Serve until stop_requested, then drain; True when everything in flight finished within the grace."""
        from waitress import wasyncore

        while not self.stop_requested.is_set():
            wasyncore.loop(timeout=0.5, map=self.map, count=1)
        return self._drain()

    def _drain(self) -> bool:
        from waitress import wasyncore

        started = time.monotonic()
        deadline = started + self.grace_s
        for listener in self.listeners:
            wasyncore.dispatcher.close(listener)  # no new connections; the trigger stays for in-flight output
        self.inflight.draining = True
        if self.on_drain is not None:
            self.on_drain()
        stopper = None
        if self.worker is not None:
            self.worker.request_stop()
            stopper = threading.Thread(target=self.worker.join, args=(self.grace_s,), name="atlas-worker-stop",
                                       daemon=True)
            stopper.start()
        log.info("draining", extra={"in_flight": self.inflight.active, "grace_s": self.grace_s})
        while time.monotonic() < deadline:
            worker_busy = stopper is not None and stopper.is_alive()
            if self.inflight.active <= 0 and not worker_busy and not self._tasks_running() \
                    and not self._output_pending():
                break
            wasyncore.loop(timeout=0.1, map=self.map, count=1)
        clean = self.inflight.active <= 0
        if not clean:
            log.warning("requests still in flight after the grace period", extra={"in_flight": self.inflight.active})
        if self.worker is not None:
            released = self.worker.release_unfinished()
            if released:
                clean = False
                log.warning("worker events released back to the queue", extra={"events": released})
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        wasyncore.close_all(self.map)
        log.info("stopped", extra={"clean": clean, "seconds": round(time.monotonic() - started, 2)})
        return clean

    def _tasks_running(self) -> bool:
        """Whether a waitress thread still has a task: it writes a response's last chunk after the app is done."""
        dispatcher = self.server.task_dispatcher
        with dispatcher.lock:
            return dispatcher.active_count > 0 or bool(dispatcher.queue)

    def _output_pending(self) -> bool:
        from waitress.channel import HTTPChannel

        return any(ch.total_outbufs_len for ch in list(self.map.values()) if isinstance(ch, HTTPChannel))
