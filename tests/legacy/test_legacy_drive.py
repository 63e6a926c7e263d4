"""Google Drive routes against a loopback fake of the OAuth token endpoint and Drive v3 (TLS, test CA)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

LEASE_TXT = (b"LEASE AGREEMENT. This Lease is made between Harbor Point Owner LLC (Landlord) and Blue Fin Cafe LLC "
             b"(Tenant) for the premises at 12 Pier Road. The term commences on January 1, 2025. " * 8)
FOLDERS = [{"id": "f1", "name": "Leases", "parents": ["root0"]}, {"id": "f2", "name": "2025", "parents": ["f1"]}]
FILES = {
    "d1": {"id": "d1", "name": "harbor.txt", "mimeType": "text/plain", "size": str(len(LEASE_TXT)),
           "modifiedTime": "2025-01-02T10:00:00.000Z", "parents": ["f2"], "webViewLink": "https://drive/d1"},
    "g1": {"id": "g1", "name": "Google Lease", "mimeType": "application/vnd.google-apps.document",
           "modifiedTime": "2025-01-03T10:00:00.000Z", "parents": ["f1"], "webViewLink": "https://drive/g1"},
    "x1": {"id": "x1", "name": "photo.png", "mimeType": "image/png", "parents": ["f1"]},
}


class FakeGoogle(BaseHTTPRequestHandler):
    """Token, revoke and the Drive v3 calls the client makes."""

    revoked: list[str] = []
    verifiers: list[str] = []  # code_verifier of each token exchange

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        return

    def _json(self, body: object, status: int = 200) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _bytes(self, raw: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        url = urlparse(self.path)
        if url.path == "/token":
            import base64

            basic = "Basic " + base64.b64encode(b"cid:secret").decode()
            client_ok = form.get("client_secret") == ["secret"] or self.headers.get("Authorization") == basic
            if form.get("code") != ["good-code"] or not client_ok:
                return self._json({"error": "invalid_grant"}, 400)
            FakeGoogle.verifiers.extend(form.get("code_verifier") or [""])
            return self._json({"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600,
                               "token_type": "Bearer", "scope": " ".join(__import__("pipeline.legacy.gdrive",
                                                                                    fromlist=["x"]).SCOPES)})
        if url.path == "/revoke":
            FakeGoogle.revoked.append(parse_qs(url.query)["token"][0])
            return self._json({})
        self._json({"error": "not found"}, 404)

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Authorization") != "Bearer at-1":
            return self._json({"error": {"code": 401, "message": "unauthenticated"}}, 401)
        url = urlparse(self.path)
        qs = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.removeprefix("/drive/v3")
        if path == "/about":
            return self._json({"user": {"emailAddress": "owner@example.com", "displayName": "Drive Owner"}})
        if path == "/files":
            q = qs.get("q", "")
            if "mimeType='application/vnd.google-apps.folder'" in q:
                return self._json({"files": FOLDERS})
            files = list(FILES.values())
            if " in parents" in q:
                parent = q.split(" and '")[-1].split("'")[0]
                files = [f for f in files if parent in f["parents"]]
            return self._json({"files": files})
        parts = path.strip("/").split("/")
        if parts[0] == "files" and parts[1] in FILES:
            if len(parts) == 3 and parts[2] == "export":
                return self._bytes(b"Google doc exported: " + LEASE_TXT[:400])
            if qs.get("alt") == "media":
                return self._bytes(LEASE_TXT)
            return self._json(FILES[parts[1]])
        self._json({"error": {"code": 404, "message": "File not found"}}, 404)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "fake.pem", tmp / "fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture()
def fake_google(tmp_path):  # type: ignore[no-untyped-def]
    cert, key = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGoogle)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    yield f"https://127.0.0.1:{server.server_port}", str(cert)
    server.shutdown()


@pytest.fixture()
def drive_env(env, fake_google):  # type: ignore[no-untyped-def]
    from pipeline.legacy.gdrive import DriveConfig

    base, ca = fake_google
    env.svc.extras["gdrive_config"] = DriveConfig(
        client_id="cid", client_secret="secret", redirect_uri="http://localhost:5601/api/google-drive/auth/callback",
        auth_uri=f"{base}/auth", token_uri=f"{base}/token", revoke_uri=f"{base}/revoke",
        api_root=f"{base}/drive/v3/", ca_bundle=ca)
    return env


def test_drive_routes_need_a_user_id_and_report_unavailable_without_a_client(env) -> None:
    assert env.client.get("/api/google-drive/auth/status").get_json() == {"error": "User ID required"}
    r = env.client.get("/api/google-drive/auth/url?user_id=u1")
    assert r.status_code == 503 and r.get_json()["error"] == "Google Drive integration not available"
    r = env.client.get("/api/google-drive/folders?user_id=u1")
    assert r.status_code == 401 and r.get_json()["status"] == "error"


def test_connect_browse_sync_and_disconnect(drive_env) -> None:
    c, uid = drive_env.client, "drive-user"
    assert c.get(f"/api/google-drive/auth/status?user_id={uid}").get_json() == {"status": "success",
                                                                               "authenticated": False}
    url = c.get(f"/api/google-drive/auth/url?user_id={uid}").get_json()
    assert url["status"] == "success"
    start = urlparse(url["auth_url"])  # the popup opens /auth/start on the API, which sets the browser cookie
    assert start.path == "/api/google-drive/auth/start"
    to_google = c.get(f"{start.path}?{start.query}")
    assert to_google.status_code == 302 and "atlas_drive_oauth=" in to_google.headers["Set-Cookie"]
    assert "HttpOnly" in to_google.headers["Set-Cookie"] and "SameSite=Lax" in to_google.headers["Set-Cookie"]
    q = parse_qs(urlparse(to_google.headers["Location"]).query)
    assert q["access_type"] == ["offline"] and q["client_id"] == ["cid"] and "drive.readonly" in q["scope"][0]
    assert q["code_challenge_method"] == ["S256"]
    state, challenge = q["state"][0], q["code_challenge"][0]

    forged = c.get(f"/api/google-drive/auth/callback?code=good-code&state=someone-else")
    assert forged.status_code == 400 and b"google-drive-auth-error" in forged.data
    assert c.get("/api/google-drive/auth/callback?state=x").get_json() == {"error": "Authorization code missing"}
    cb = c.get(f"/api/google-drive/auth/callback?code=good-code&state={state}")
    assert cb.status_code == 200 and cb.mimetype == "text/html"
    verifier = FakeGoogle.verifiers[-1]  # PKCE: the verifier sent with the code matches the challenge Google saw
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert digest == challenge
    page = cb.get_data(as_text=True)
    assert '"type": "google-drive-auth-success"' in page and "owner@example.com" in page
    assert "http://localhost:3000" in page and "postMessage(m,'*')" not in page
    assert c.get(f"/api/google-drive/auth/status?user_id={uid}").get_json()["authenticated"] is True
    from pipeline.legacy import tables as lt

    with drive_env.svc.engine.connect() as conn:
        blob = conn.execute(lt.drive_credentials.select()).first().token_ciphertext
    assert b"rt-1" not in blob and b"at-1" not in blob  # encrypted at rest

    tree = c.get(f"/api/google-drive/folders?user_id={uid}").get_json()
    assert tree["folder_tree"]["id"] == "root" and tree["folder_tree"]["name"] == "My Drive"
    assert tree["folder_tree"]["children"][0]["name"] == "Leases"
    assert tree["folder_tree"]["children"][0]["children"][0]["id"] == "f2"

    files = c.get(f"/api/google-drive/files?user_id={uid}&folder_id=").get_json()
    assert files["status"] == "success" and {f["id"] for f in files["files"]} == {"d1", "g1"}  # png filtered out
    assert files["nextPageToken"] is None and files["totalFiles"] == 2
    in_f2 = c.get(f"/api/google-drive/files?user_id={uid}&folder_id=f2").get_json()
    assert [f["id"] for f in in_f2["files"]] == ["d1"]

    assert c.post("/api/google-drive/sync", json={"user_id": uid, "file_ids": [], "folder_ids": []}).get_json() == \
        {"error": "No files or folders selected"}
    sync = c.post("/api/google-drive/sync", json={"user_id": uid, "file_ids": ["d1", "missing"],
                                                  "folder_ids": ["f1"]}).get_json()
    assert sync["status"] == "success" and isinstance(sync["sync_id"], int)
    assert sync["files_processed"] == 2 and sync["files_failed"] == 1
    by_id = {r["file_id"]: r for r in sync["results"]}
    assert by_id["d1"]["status"] == "success" and by_id["d1"]["indexed"] is True
    assert by_id["missing"]["status"] == "error"
    # the synced file is a pipeline document of the user's organisation
    from pipeline.legacy.waiting import wait_for_extraction

    with drive_env.svc.engine.connect() as conn:
        org_id = conn.execute(lt.users.select().where(lt.users.c.app_id == uid)).first().org_id
    ext = wait_for_extraction(org_id, by_id["d1"]["document_id"], uow_factory=drive_env.svc.uow_factory, timeout_s=30)
    assert ext.result.field("landlord").value

    synced = c.get(f"/api/google-drive/synced-files?user_id={uid}").get_json()
    assert synced["count"] == 2
    for f in synced["files"]:
        for key in ("drive_file_id", "drive_file_name", "last_synced", "web_view_link", "index_status"):
            assert key in f
        assert isinstance(f["last_synced"], str)
    assert {f["drive_file_id"]: f["index_status"] for f in synced["files"]}["d1"] == "indexed"
    status = c.get(f"/api/google-drive/sync/status/{sync['sync_id']}?user_id={uid}").get_json()
    assert status["sync"]["status"] == "completed"
    assert c.get(f"/api/google-drive/sync/status/{sync['sync_id']}?user_id=intruder").status_code == 404
    refresh = c.post("/api/google-drive/refresh/d1", json={"user_id": uid}).get_json()
    assert refresh == {"status": "success", "message": "File is up to date", "modified": False}

    # another user sees none of it
    assert c.get("/api/google-drive/synced-files?user_id=intruder").get_json()["count"] == 0
    assert c.get("/api/google-drive/folders?user_id=intruder").status_code == 401

    assert c.post("/api/google-drive/disconnect", json={"user_id": uid}).get_json()["status"] == "success"
    assert FakeGoogle.revoked[-1] == "rt-1"
    assert c.get(f"/api/google-drive/auth/status?user_id={uid}").get_json()["authenticated"] is False
    synced = c.get(f"/api/google-drive/synced-files?user_id={uid}").get_json()
    assert {f["index_status"] for f in synced["files"]} == {"disconnected"}


def _start(c, uid: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Begin a sign-in as the popup does; returns the state Google would send back and the browser's cookie."""
    start = urlparse(c.get(f"/api/google-drive/auth/url?user_id={uid}").get_json()["auth_url"])
    to_google = c.get(f"{start.path}?{start.query}")
    cookie = to_google.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    return parse_qs(urlparse(to_google.headers["Location"]).query)["state"][0], cookie


def test_oauth_state_is_single_use_browser_bound_and_expires(drive_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flask.testing import FlaskClient

    from pipeline.legacy import gdrive

    c, uid = drive_env.client, "drive-user-2"
    state, cookie = _start(c, uid)
    # another browser (no cookie from /auth/start) cannot finish this sign-in
    other: FlaskClient = drive_env.app.test_client()
    r = other.get(f"/api/google-drive/auth/callback?code=good-code&state={state}")
    assert r.status_code == 400 and b"another browser" in r.data
    assert c.get(f"/api/google-drive/auth/callback?code=good-code&state={state}").status_code == 200
    # success clears the cookie; even a browser that kept it cannot use the state twice
    c.set_cookie("atlas_drive_oauth", cookie, path="/api/google-drive/auth")
    replay = c.get(f"/api/google-drive/auth/callback?code=good-code&state={state}")
    assert replay.status_code == 400 and b"already used" in replay.data
    start_again = c.get(f"/api/google-drive/auth/start?{urlencode({'state': state})}")
    assert start_again.status_code == 400 and b"already used" in start_again.data
    # a state older than the limit is refused even with its cookie
    state, _ = _start(c, uid)
    real_time = gdrive.time.time
    monkeypatch.setattr(gdrive.time, "time", lambda: real_time() + gdrive.STATE_TTL_S + 5)
    r = c.get(f"/api/google-drive/auth/callback?code=good-code&state={state}")
    assert r.status_code == 400 and b"expired" in r.data
