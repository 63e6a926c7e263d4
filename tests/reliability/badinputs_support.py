"""Helpers for sending the hostile-input corpus through a live server and judging each outcome."""
from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import func, select

from reliability_support import Live

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\bat 0x[0-9a-f]{6,}")
BIDI_AND_NUL = set("\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body carrying the file name byte-for-byte (clients like requests would %-escape NUL)."""
    boundary = "atlas-" + uuid.uuid4().hex
    quoted = filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode("utf-8")
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Outcome:
    """What happened to one upload."""

    name: str
    outcome: str  # reject_at_upload | fail_job_cleanly | process_ok | 5xx | timeout
    upload_status: int
    seconds: float
    doc: dict = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


def upload_and_wait(srv: Live, key: str, filename: str, data: bytes, budget_s: float) -> Outcome:
    """Upload under the given name, then poll until the job ends (or the budget runs out)."""
    body, ctype = multipart(filename, data)
    started = time.monotonic()
    r = requests.post(f"{srv.url}/v1/documents", data=body, timeout=budget_s,
                      headers={**srv.auth(key), "Content-Type": ctype})
    texts = [r.text]
    if r.status_code >= 500:
        return Outcome(filename, "5xx", r.status_code, time.monotonic() - started, texts=texts)
    if 400 <= r.status_code < 500:
        assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
        err = r.json()["error"]
        assert err["code"] and err["message"], err
        return Outcome(filename, "reject_at_upload", r.status_code, time.monotonic() - started, texts=texts)
    doc = srv.wait_terminal(r.json()["id"], key, timeout_s=max(1.0, budget_s - (time.monotonic() - started)))
    texts.append(str(doc))
    outcome = {"ready": "process_ok", "failed": "fail_job_cleanly"}.get(doc.get("status"), "timeout")
    return Outcome(filename, outcome, r.status_code, time.monotonic() - started, doc=doc, texts=texts)


def document_rows_for(srv: Live, data: bytes) -> int:
    """How many documents hold exactly these bytes (any organisation)."""
    from pipeline.adapters import sql_tables as t

    digest = hashlib.sha256(data).hexdigest()
    with srv.services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.documents)
                                .where(t.documents.c.content_hash == digest)).scalar_one())


def extraction_rows_for(srv: Live, doc_id: str) -> int:
    """Extraction versions stored for one document."""
    with srv.services.uow_factory() as uow:
        return uow.extractions.count(doc_id)


def tree(root: Path) -> set[str]:
    """Every file and folder under root, relative."""
    out: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def unexpected_data_files(data_dir: Path) -> list[str]:
    """Files in the data directory that are not the database, content-addressed blobs, the index or library caches."""
    allowed = re.compile(r"^(atlas\.db(-wal|-shm|-journal)?|blobs|blobs/sha256|blobs/sha256/[0-9a-f]{2}"
                         r"|blobs/sha256/[0-9a-f]{2}/[0-9a-f]{64}|chroma(/.*)?|cache(/.*)?)$")
    return sorted(p for p in tree(data_dir) if not allowed.match(p))
