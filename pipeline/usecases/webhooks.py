"""Webhooks: per-organisation endpoints told of document.ready / document.failed, signed, retried with backoff."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from datetime import timedelta
from typing import Callable
from urllib.parse import urlsplit

from pipeline.domain.errors import ValidationFailed
from pipeline.domain.model import new_id, utcnow
from pipeline.domain.webhooks import (MAX_ATTEMPTS, MAX_HOOKS_PER_ORG, SIGNATURE_HEADER, WEBHOOK_EVENTS, Delivery,
                                      Webhook)

log = logging.getLogger(__name__)

def check_url(url: str, *, allow_private: bool) -> None:
    """ValidationFailed for URLs Atlas must not call: non-http(s), credentials, or private addresses when refused."""
    if not isinstance(url, str) or len(url) > 2000:
        raise ValidationFailed("url must be a string of at most 2000 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("url must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ValidationFailed("url must not carry credentials")
    if not allow_private:
        if parts.scheme != "https":
            raise ValidationFailed("url must use https")
        for addr in _addresses(parts.hostname):
            if not addr.is_global:
                raise ValidationFailed(f"url resolves to a non-public address ({addr})")


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise ValidationFailed(f"url host {host!r} does not resolve") from exc
    return [ipaddress.ip_address(i[4][0]) for i in infos]


def create_webhook(org_id: str, url: str, events: list[str] | None, *, uow_factory: Callable,
                   allow_private: bool) -> Webhook:
    """Register an endpoint; its signing secret is returned once, in the result."""
    check_url(url, allow_private=allow_private)
    wanted = list(events or WEBHOOK_EVENTS)
    if not wanted or any(e not in WEBHOOK_EVENTS for e in wanted):
        raise ValidationFailed(f"events must be a non-empty subset of {', '.join(WEBHOOK_EVENTS)}")
    hook = Webhook(id=new_id(), org_id=org_id, url=url, secret="whsec_" + secrets.token_urlsafe(32),
                   events=sorted(set(wanted)))
    with uow_factory() as uow:
        if len(uow.webhooks.list(org_id)) >= MAX_HOOKS_PER_ORG:
            raise ValidationFailed(f"at most {MAX_HOOKS_PER_ORG} webhooks per organisation")
        uow.webhooks.add(hook)
        uow.commit()
    return hook


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: 't=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>'."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replays)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), header)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


Post = Callable[[str, bytes, dict[str, str]], int]


def deliver_due(*, uow_factory: Callable, post: Post, allow_private: bool, limit: int = 20,
                max_attempts: int = MAX_ATTEMPTS) -> int:
    """Send the deliveries that are due; 2xx → delivered, else retried with backoff, failed after max_attempts."""
    with uow_factory() as uow:
        due = uow.webhooks.claim_due(limit, lease_s=60.0)
        uow.commit()
    for delivery, hook in due:
        body = json.dumps({"id": delivery.event_id, "type": delivery.event_type,
                           "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
                          sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Atlas-Webhooks/1",
                   SIGNATURE_HEADER: sign(hook.secret, int(time.time()), body), "Atlas-Event": delivery.event_type,
                   "Atlas-Delivery": delivery.id}
        delivery.attempts += 1
        try:
            check_url(hook.url, allow_private=allow_private)  # again at send time: DNS may have changed
            code = post(hook.url, body, headers)
            delivery.last_status_code, delivery.last_error = code, None if 200 <= code < 300 else f"HTTP {code}"
        except (OSError, ValidationFailed) as exc:
            delivery.last_status_code, delivery.last_error = None, f"{type(exc).__name__}: {exc}"[:500]
        if delivery.last_error is None:
            delivery.status, delivery.delivered_at = "delivered", utcnow()
        elif delivery.attempts >= max_attempts:
            delivery.status = "failed"
            log.warning("webhook delivery given up", extra={"delivery_id": delivery.id, "webhook_id": hook.id})
        else:
            delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
        with uow_factory() as uow:
            uow.webhooks.record(delivery)
            uow.commit()
    return len(due)


def http_post(timeout_s: float = 10.0) -> Post:
    """POST with requests: no redirects followed, bounded time."""
    import requests

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            return requests.post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False).status_code
        except requests.RequestException as exc:
            raise OSError(str(exc)) from exc

    return post


class DeliveryLoop:
    """Sends due deliveries in a background daemon thread until stopped (the embedded runtime's sender)."""

    def __init__(self, send_due: Callable[[], int], *, poll_s: float = 2.0) -> None:
        self.send_due = send_due
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.send_due()
            except Exception:  # a database hiccup must not end the loop; logged, tried again next poll
                log.exception("webhook delivery loop error")
                sent = 0
            if not sent:
                self._stop.wait(self.poll_s)

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._loop, name="atlas-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Finish the current send and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
