"""/stream-key-terms over a real loopback server: progress events from the worker arrive before `complete`."""
from __future__ import annotations

import json

import requests


def _events(resp: requests.Response) -> list[tuple[str | None, dict]]:
    out: list[tuple[str | None, dict]] = []
    name: str | None = None
    for raw in resp.iter_lines(decode_unicode=True):
        if raw.startswith("event: "):
            name = raw[7:]
        elif raw.startswith("data: "):
            out.append((name, json.loads(raw[6:])))
            name = None
    return out


def test_stream_reports_real_progress_then_complete(slow_live, lease_pdf) -> None:
    with requests.post(f"{slow_live.url}/stream-key-terms", files={"file": ("lease.pdf", lease_pdf)},
                       stream=True, timeout=60) as resp:
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        events = _events(resp)
    names = [n for n, _ in events]
    assert names[0] == "connected" and names[-1] == "complete"
    stages = [d["stage"] for n, d in events if n == "progress"]
    messages = [d["message"] for n, d in events if n == "progress"]
    assert "ocr page 1 of 3" in messages and "ocr page 3 of 3" in messages  # each page the parser reported
    assert stages.index("ocr") < len(stages) and "extracting" in stages
    assert all(d["status"] == "streaming" for n, d in events if n == "progress")
    complete = events[-1][1]
    assert complete["is_complete"] is True and complete["status"] == "complete"
    assert complete["data"]["tenant_info"]["tenant"] == "Quarry Outdoor Supply Co."


def test_stream_input_errors_are_unnamed_data_messages(live) -> None:
    resp = requests.get(f"{live.url}/stream-key-terms", timeout=10)
    assert resp.status_code == 200
    assert _events(resp) == [(None, {"status": "error", "error": "No filename provided"})]
    resp = requests.get(f"{live.url}/stream-key-terms", params={"filename": "../../etc/passwd"}, timeout=10)
    assert _events(resp) == [(None, {"status": "error", "error": "File not found"})]


def test_stream_by_filename_after_upload_reports_failure_as_error_event(live) -> None:
    data = b"%PDF-1.7\n" + b"\x00garbage" * 200
    up = requests.post(f"{live.url}/upload", files={"file": ("broken.pdf", data)}, timeout=10).json()
    with requests.get(f"{live.url}/stream-key-terms", params={"filename": up["filepath"]}, stream=True,
                      timeout=60) as resp:
        events = _events(resp)
    assert events[-1][0] in ("error", None) and events[-1][1]["status"] == "error"
