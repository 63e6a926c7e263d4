"""Production trusts legacy user ids only on the loopback address actually bound, whatever --host says."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import UnsafeSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
PROD = {"FLASK_ENV": "production", "INDEX_SERVER_KEY": "k" * 32, "ATLAS_API_KEY_PEPPER": "p" * 32,
        "ATLAS_SINGLE_BOX": "true", "ATLAS_LEGACY_TRUST_USER_ID": "true"}


@pytest.mark.parametrize("host", ["127.0.0.2", "0.0.0.0", "::", "192.168.1.5", ""])
def test_check_bind_refuses_trust_off_loopback(host: str) -> None:
    settings = load_settings(**PROD)
    settings.check_production()  # ATLAS_HOST is the default 127.0.0.1: the configured address alone passes
    with pytest.raises(UnsafeSettings, match="ATLAS_LEGACY_TRUST_USER_ID"):
        settings.check_bind(host)


def test_check_bind_allows_loopback_and_development() -> None:
    load_settings(**PROD).check_bind("127.0.0.1")
    load_settings(**{**PROD, "FLASK_ENV": "development"}).check_bind("0.0.0.0")
    load_settings(**{**PROD, "ATLAS_LEGACY_TRUST_USER_ID": "false"}).check_bind("0.0.0.0")


def test_serve_with_host_override_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, **PROD, "PYTHONPATH": str(ROOT), "ATLAS_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", "--host", "127.0.0.2", "--port", "0"],
                          cwd=tmp_path, env=env, capture_output=True, timeout=60)
    assert proc.returncode != 0
    assert b"ATLAS_LEGACY_TRUST_USER_ID" in proc.stderr and b"127.0.0.2" in proc.stderr


def test_gunicorn_entry_never_trusts_user_ids_in_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k, v in {**PROD, "ATLAS_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    from api.wsgi import create

    with pytest.raises(UnsafeSettings, match="gunicorn"):
        create()


@pytest.mark.parametrize("uri,ok", [
    (None, False), ("http://localhost:5601/api/google-drive/auth/callback", False),
    ("http://atlas.example.com/api/google-drive/auth/callback", False),
    ("https://atlas.example.com/api/google-drive/auth/callback", True)])
def test_production_with_drive_needs_a_public_https_redirect_uri(uri: str | None, ok: bool) -> None:
    env = {**PROD, "ATLAS_LEGACY_TRUST_USER_ID": "false", "GOOGLE_CLIENT_ID": "cid", "GOOGLE_CLIENT_SECRET": "s"}
    if uri:
        env["GOOGLE_REDIRECT_URI"] = uri
    settings = load_settings(**env)
    if ok:
        settings.check_production()
    else:
        with pytest.raises(UnsafeSettings, match="GOOGLE_REDIRECT_URI"):
            settings.check_production()
