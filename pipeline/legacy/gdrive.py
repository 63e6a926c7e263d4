"""Google Drive for the legacy app: OAuth (google-auth-oauthlib), tokens encrypted at rest, listing and downloads."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from pipeline.domain.errors import Unauthorized

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/drive.readonly", "openid",
          "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"]
FOLDER = "application/vnd.google-apps.folder"
EXPORTS = {  # Google-native documents are exported to a format the parser reads
    "application/vnd.google-apps.document": ("application/pdf", ".pdf"),
    "application/vnd.google-apps.presentation": ("application/pdf", ".pdf"),
    "application/vnd.google-apps.spreadsheet": ("text/csv", ".csv"),
}
SUPPORTED = {"application/pdf", "application/msword", "text/plain", "text/csv", "application/vnd.ms-excel",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", *EXPORTS}
FILE_FIELDS = "id,name,mimeType,size,modifiedTime,parents,webViewLink"


@dataclass(frozen=True)
class DriveConfig:
    """Where Google lives (overridable so tests can point at a loopback fake) and the OAuth client."""

    client_id: str | None
    client_secret: str | None
    redirect_uri: str
    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    api_root: str | None = None  # None: the Drive API's own endpoint
    ca_bundle: str | None = None  # extra CA for a test fake served over TLS

    @property
    def enabled(self) -> bool:
        """Whether an OAuth client is configured."""
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_settings(cls, settings: Any) -> "DriveConfig":
        """The production configuration."""
        return cls(settings.google_client_id, settings.google_client_secret, settings.google_redirect_uri)


def _fernet(pepper: str):  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"atlas-google-drive-tokens",
               info=b"fernet").derive(pepper.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_tokens(info: dict[str, Any], pepper: str) -> bytes:
    """OAuth credentials JSON → Fernet ciphertext (key derived from the server pepper)."""
    return _fernet(pepper).encrypt(json.dumps(info).encode())


def decrypt_tokens(blob: bytes, pepper: str) -> dict[str, Any]:
    """Inverse of encrypt_tokens; Unauthorized when the pepper changed or the blob was altered."""
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(_fernet(pepper).decrypt(bytes(blob)))
    except InvalidToken as exc:
        raise Unauthorized("stored Google Drive tokens cannot be decrypted; reconnect Google Drive") from exc


STATE_TTL_S = 600  # a sign-in must be finished within ten minutes


def new_nonce() -> str:
    """The one-time id of a sign-in attempt (state, pending row and browser cookie share it)."""
    return secrets.token_urlsafe(24)


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43-128 unreserved characters); kept server-side until the callback."""
    return secrets.token_urlsafe(64)


def sign_state(user_key: str, nonce: str, pepper: str, *, issued_at: float | None = None) -> str:
    """OAuth state naming the user, the attempt and its time, signed so it cannot be forged or repointed."""
    issued = int(time.time() if issued_at is None else issued_at)
    body = base64.urlsafe_b64encode(f"{user_key}\n{nonce}\n{issued}".encode()).decode().rstrip("=")
    mac = hmac.new(pepper.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{mac}"


def verify_state(state: str, pepper: str, *, now: float | None = None) -> tuple[str, str]:
    """(user key, nonce) of a state made by sign_state; Unauthorized when forged, malformed or expired."""
    body, _, mac = (state or "").partition(".")
    good = hmac.new(pepper.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
    if not body or not hmac.compare_digest(mac, good):
        raise Unauthorized("invalid OAuth state")
    parts = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("\n")
    if len(parts) != 3 or not parts[2].isdigit():
        raise Unauthorized("invalid OAuth state")
    if (time.time() if now is None else now) - int(parts[2]) > STATE_TTL_S:
        raise Unauthorized("this Google sign-in expired; start it again")
    return parts[0], parts[1]


def _flow(cfg: DriveConfig, state: str | None = None, code_verifier: str | None = None):  # type: ignore[no-untyped-def]
    from google_auth_oauthlib.flow import Flow

    client = {"web": {"client_id": cfg.client_id, "client_secret": cfg.client_secret, "auth_uri": cfg.auth_uri,
                      "token_uri": cfg.token_uri, "redirect_uris": [cfg.redirect_uri]}}
    flow = Flow.from_client_config(client, scopes=SCOPES, state=state, redirect_uri=cfg.redirect_uri,
                                   code_verifier=code_verifier, autogenerate_code_verifier=False)
    if cfg.ca_bundle:
        flow.oauth2session.verify = cfg.ca_bundle
    return flow


def authorization_url(cfg: DriveConfig, state: str, code_verifier: str) -> str:
    """Google's consent page URL (offline access, so a refresh token comes back; PKCE S256 challenge)."""
    url, _ = _flow(cfg, state, code_verifier).authorization_url(access_type="offline", prompt="consent",
                                                                include_granted_scopes="true")
    return url


def exchange_code(cfg: DriveConfig, code: str, code_verifier: str) -> dict[str, Any]:
    """Trade the callback's code (and the PKCE verifier) for credentials, as the authorized-user JSON."""
    flow = _flow(cfg, code_verifier=code_verifier)
    flow.fetch_token(code=code, verify=cfg.ca_bundle or True)
    return json.loads(flow.credentials.to_json())


class DriveClient:
    """The few Drive v3 calls the legacy routes need, over google-api-python-client."""

    def __init__(self, cfg: DriveConfig, info: dict[str, Any]) -> None:
        import google_auth_httplib2
        import httplib2
        from google.oauth2.credentials import Credentials
        from googleapiclient.discovery import build

        self.credentials = Credentials.from_authorized_user_info(info, SCOPES)
        http = google_auth_httplib2.AuthorizedHttp(self.credentials,
                                                   http=httplib2.Http(ca_certs=cfg.ca_bundle, timeout=60))
        options = {"api_endpoint": cfg.api_root} if cfg.api_root else None
        self.service = build("drive", "v3", http=http, client_options=options, static_discovery=True,
                             cache_discovery=False)

    def credentials_info(self) -> dict[str, Any]:
        """Current credentials (refreshed tokens included) for storing back."""
        return json.loads(self.credentials.to_json())

    def about(self) -> dict[str, Any]:
        """The signed-in Google user (emailAddress, displayName)."""
        return self.service.about().get(fields="user(emailAddress,displayName)").execute().get("user", {})

    def folders(self) -> list[dict[str, Any]]:
        """Every folder the user can see."""
        out: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.service.files().list(q=f"mimeType='{FOLDER}' and trashed=false", pageSize=1000,
                                             fields="nextPageToken,files(id,name,parents)", pageToken=token).execute()
            out.extend(page.get("files", []))
            token = page.get("nextPageToken")
            if not token:
                return out

    def files(self, folder_id: str | None, page_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of non-folder, non-trashed files (in folder_id when given), supported types only."""
        q = f"mimeType!='{FOLDER}' and trashed=false"
        if folder_id:
            q += f" and '{folder_id.replace(chr(39), '')}' in parents"
        page = self.service.files().list(q=q, pageSize=100, pageToken=page_token,
                                         fields=f"nextPageToken,files({FILE_FIELDS})").execute()
        files = [f for f in page.get("files", []) if f.get("mimeType") in SUPPORTED]
        return files, page.get("nextPageToken")

    def metadata(self, file_id: str) -> dict[str, Any]:
        """One file's metadata."""
        return self.service.files().get(fileId=file_id, fields=FILE_FIELDS).execute()

    def download(self, meta: dict[str, Any]) -> tuple[bytes, str]:
        """The file's bytes and the name to ingest it under (Google-native documents exported)."""
        export = EXPORTS.get(meta.get("mimeType", ""))
        if export:
            data = self.service.files().export_media(fileId=meta["id"], mimeType=export[0]).execute()
            return data, meta["name"] + export[1]
        return self.service.files().get_media(fileId=meta["id"]).execute(), meta["name"]


def build_tree(folders: list[dict[str, Any]]) -> dict[str, Any]:
    """{id:'root', name:'My Drive', children:[…]}: folders under their parents, orphans under the root."""
    nodes = {f["id"]: {"id": f["id"], "name": f["name"], "parents": f.get("parents", []), "children": []}
             for f in folders}
    root: dict[str, Any] = {"id": "root", "name": "My Drive", "children": []}
    for node in nodes.values():
        parent = next((p for p in node["parents"] if p in nodes), None)
        (nodes[parent]["children"] if parent else root["children"]).append(node)
    return root


def revoke(cfg: DriveConfig, token: str | None) -> bool:
    """Ask Google to revoke a token; False (logged) when it could not."""
    import requests

    if not token:
        return False
    try:
        resp = requests.post(cfg.revoke_uri, params={"token": token}, timeout=10, verify=cfg.ca_bundle or True)
    except requests.RequestException as exc:
        log.warning("token revocation failed", extra={"error": type(exc).__name__})
        return False
    return resp.ok
