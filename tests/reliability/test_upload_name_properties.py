"""Property tests of the API's input validation: any client file name becomes safe display metadata."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.domain.errors import InvalidDocument
from pipeline.usecases.ingest import check_upload_name, safe_display_name

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = st.sampled_from(["/", "\\", "\x00", "..", "../", "..\\", *BIDI, "\u200f", "\ufeff", "\r\n", "%2e%2e%2f",
                           "CON", ".pdf", " ", "\u0301", "\U0001f4c4", "<script>", ";rm -rf ~;"])
NAMES = st.lists(st.one_of(HOSTILE, st.text(max_size=40)), max_size=30).map("".join) | st.text(max_size=600)


@given(NAMES)
@settings(max_examples=400, deadline=None)
def test_display_name_is_always_safe(name: str):
    shown = safe_display_name(name)
    assert shown and len(shown) <= 255
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown
    assert not set(shown) & set(BIDI)
    assert all(ch.isprintable() for ch in shown)
    assert shown == shown.strip()


@given(NAMES)
@settings(max_examples=300, deadline=None)
def test_name_check_refuses_exactly_blank_and_control_names(name: str):
    refused = not name.strip() or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name)
    try:
        check_upload_name(name)
    except InvalidDocument as exc:
        assert refused and exc.code == "invalid_filename"
    else:
        assert not refused


_APP: dict = {}


def _client():  # type: ignore[no-untyped-def]
    if not _APP:
        from api.app import create_app
        from pipeline.bootstrap import build
        from pipeline.keys import create_key
        from pipeline.settings import load_settings

        svc = build(load_settings(ATLAS_DATA_DIR=tempfile.mkdtemp(prefix="atlas-names-"),
                                  ATLAS_RATE_LIMIT_PER_MINUTE=1_000_000), migrate=True)
        _APP.update(client=create_app(svc).test_client(), svc=svc,
                    key=create_key("names", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)[1])
    return _APP


@given(name=NAMES, body=st.binary(min_size=1, max_size=64))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_upload_with_any_name_is_never_a_5xx_and_stores_only_metadata(name: str, body: bytes):
    app = _client()
    data = b"LEASE AGREEMENT between Landlord and Tenant. " + body
    r = app["client"].post("/v1/documents", headers={"Authorization": f"Bearer {app['key']}"},
                           data={"file": (io.BytesIO(data), name)})
    assert r.status_code < 500, r.get_data(as_text=True)[:200]
    assert r.is_json
    if r.status_code in (200, 202):
        stored = r.get_json()["filename"]
        assert stored == safe_display_name(stored) or stored == safe_display_name(name)
        assert len(stored) <= 255 and "/" not in stored and "\\" not in stored and "\x00" not in stored
        assert not set(stored) & set(BIDI)
    blobs = Path(app["svc"].settings.data_dir) / "blobs"
    assert all(p.name.startswith(".") is False for p in blobs.rglob("*") if p.is_file())  # no temp leftovers
