"""/api/google-drive/*: connect a user's Drive, browse it, and sync files into their organisation's pipeline."""
from __future__ import annotations

import hmac
import html
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, redirect, request
from sqlalchemy import delete, insert, select, update

from api.deps import services
from api.legacy.blueprint import bp
from api.legacy.errors import bad_request
from api.legacy.identity import current_caller, json_body, user_in_scope
from pipeline.domain.errors import InvalidDocument, NotFound, Unauthorized
from pipeline.domain.model import DocumentStatus, utcnow
from pipeline.legacy import gdrive, records
from pipeline.legacy import tables as lt
from pipeline.usecases.ingest import ingest

log = logging.getLogger(__name__)
PREFIX = "/api/google-drive"
OAUTH_COOKIE = "atlas_drive_oauth"  # binds a sign-in to the browser that started it
_INDEX_STATUS = {DocumentStatus.READY: "indexed", DocumentStatus.FAILED: "failed"}


def _cfg() -> gdrive.DriveConfig:
    svc = services()
    return svc.lazy("gdrive_config", lambda: gdrive.DriveConfig.from_settings(svc.settings))


def _user_id(body: dict[str, Any] | None = None) -> str | None:
    uid = (body or {}).get("user_id") or request.args.get("user_id")
    return str(uid) if uid else None


def _user(user_id: str) -> dict[str, Any]:
    """The caller's organisation's user (created when new, as the legacy app expects); Drive rows use its "key"."""
    caller = current_caller(user_id)
    with services().uow_factory() as uow:
        user = user_in_scope(uow.conn, caller, user_id)
        if user is None:
            user = records.ensure_user(uow.conn, user_id, org_id=caller.org_id)
            uow.commit()
    return user


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()


def _stored_info(user_key: str) -> dict[str, Any] | None:
    with services().uow_factory() as uow:
        row = uow.conn.execute(select(lt.drive_credentials).where(lt.drive_credentials.c.user_id == user_key,
                                                                  lt.drive_credentials.c.revoked.is_(False))).first()
    return gdrive.decrypt_tokens(row.token_ciphertext, services().settings.api_key_pepper) if row else None


def _client(user_key: str) -> gdrive.DriveClient:
    info = _stored_info(user_key)
    if info is None:
        raise Unauthorized("Google Drive is not connected for this user")
    return gdrive.DriveClient(_cfg(), info)


def _save_credentials(user_key: str, info: dict[str, Any], email: str | None, name: str | None) -> None:
    svc = services()
    blob = gdrive.encrypt_tokens(info, svc.settings.api_key_pepper)
    now = utcnow()
    with svc.uow_factory() as uow:
        exists = uow.conn.execute(select(lt.drive_credentials.c.user_id)
                                  .where(lt.drive_credentials.c.user_id == user_key)).first()
        values = dict(token_ciphertext=blob, user_email=email, display_name=name, revoked=False, updated_at=now)
        if exists:
            uow.conn.execute(update(lt.drive_credentials).where(lt.drive_credentials.c.user_id == user_key)
                             .values(**values))
        else:
            uow.conn.execute(insert(lt.drive_credentials).values(user_id=user_key, created_at=now, **values))
        uow.commit()


def _required_user(body: dict[str, Any] | None = None) -> tuple[str | None, tuple[Response, int] | None]:
    uid = _user_id(body)
    return (uid, None) if uid else (None, bad_request("User ID required"))


@bp.get(f"{PREFIX}/auth/status")
def drive_auth_status() -> Response | tuple[Response, int]:
    """Whether the user has connected Drive."""
    uid, err = _required_user()
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    return jsonify({"status": "success", "authenticated": _stored_info(user["key"]) is not None})


@bp.get(f"{PREFIX}/auth/url")
def drive_auth_url() -> Response | tuple[Response, int]:
    """A one-time sign-in link on this API (/auth/start), which binds the attempt to the browser, then Google."""
    uid, err = _required_user()
    if err:
        return err
    cfg = _cfg()
    if not cfg.enabled:
        return jsonify({"error": "Google Drive integration not available",
                        "message": "set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET"}), 503
    user = _user(uid)  # type: ignore[arg-type]
    nonce, now = gdrive.new_nonce(), utcnow()
    with services().uow_factory() as uow:
        uow.conn.execute(delete(lt.drive_oauth_states).where(
            lt.drive_oauth_states.c.created_at < now - timedelta(seconds=gdrive.STATE_TTL_S)))
        uow.conn.execute(insert(lt.drive_oauth_states).values(nonce=nonce, user_id=user["key"], created_at=now,
                                                              code_verifier=gdrive.new_code_verifier()))
        uow.commit()
    state = gdrive.sign_state(user["key"], nonce, services().settings.api_key_pepper)  # the key: org and user
    return jsonify({"status": "success", "auth_url": f"{_start_url(cfg)}?{urlencode({'state': state})}"})


def _start_url(cfg: gdrive.DriveConfig) -> str:
    """/auth/start on the origin Google sends the popup back to (the callback's)."""
    base = cfg.redirect_uri.rsplit("?", 1)[0]
    return base[: -len("/callback")] + "/start" if base.endswith("/callback") else f"{PREFIX}/auth/start"


@bp.get(f"{PREFIX}/auth/start")
def drive_auth_start() -> Response | tuple[Response, int]:
    """Open in the popup: remember the attempt in this browser (cookie), then go to Google with a PKCE challenge."""
    svc = services()
    try:
        _, nonce = gdrive.verify_state(request.args.get("state", ""), svc.settings.api_key_pepper)
        with svc.uow_factory() as uow:
            row = uow.conn.execute(select(lt.drive_oauth_states).where(lt.drive_oauth_states.c.nonce == nonce)) \
                .first()
        if row is None:
            raise Unauthorized("this Google sign-in link was already used; start it again")
    except Unauthorized as exc:
        return _popup({"type": "google-drive-auth-error", "error": exc.message}, 400)
    resp = redirect(gdrive.authorization_url(_cfg(), request.args["state"], row.code_verifier))
    resp.set_cookie(OAUTH_COOKIE, nonce, max_age=gdrive.STATE_TTL_S, path=f"{PREFIX}/auth", httponly=True,
                    samesite="Lax", secure=svc.settings.is_production)
    return resp


def _popup(message: dict[str, Any], status: int) -> tuple[Response, int]:
    """The page the OAuth popup lands on: tells the opener (only the app's own origins) and closes."""
    origins = json.dumps(services().settings.cors_origin_list)
    payload = json.dumps(message).replace("<", "\\u003c")
    body = (f"<!doctype html><html><body><p>{html.escape(str(message.get('type', '')))}</p><script>"
            f"var m={payload};var o={origins};"
            "if(window.opener){o.forEach(function(x){try{window.opener.postMessage(m,x)}catch(e){}});}"
            "setTimeout(function(){window.close()},500);</script></body></html>")
    return Response(body, mimetype="text/html"), status


@bp.route(f"{PREFIX}/auth/callback", methods=["GET", "POST"])
def drive_auth_callback() -> Response | tuple[Response, int]:
    """Check the attempt (signed, fresh, unused, this browser's), exchange the code with its PKCE verifier, store
    the tokens encrypted, and report to the app's popup listener."""
    code = request.values.get("code")
    if not code:
        return bad_request("Authorization code missing")
    svc = services()
    try:
        user_key, nonce = gdrive.verify_state(request.values.get("state", ""), svc.settings.api_key_pepper)
        if not hmac.compare_digest(request.cookies.get(OAUTH_COOKIE, ""), nonce):
            raise Unauthorized("this Google sign-in was started in another browser; start it again here")
        with svc.uow_factory() as uow:  # one use: the attempt is gone before the code is even tried
            row = uow.conn.execute(select(lt.drive_oauth_states).where(lt.drive_oauth_states.c.nonce == nonce,
                                                                       lt.drive_oauth_states.c.user_id == user_key)) \
                .first()
            used = uow.conn.execute(delete(lt.drive_oauth_states).where(lt.drive_oauth_states.c.nonce == nonce))
            uow.commit()
        if row is None or used.rowcount != 1:
            raise Unauthorized("this Google sign-in was already used; start it again")
        cfg = _cfg()
        info = gdrive.exchange_code(cfg, code, row.code_verifier)
        me = gdrive.DriveClient(cfg, info).about()
        _save_credentials(user_key, info, me.get("emailAddress"), me.get("displayName"))
    except Exception as exc:  # the popup must always get an answer the app understands
        log.warning("google drive authorisation failed: %s: %s", type(exc).__name__, str(exc)[:300])
        resp, status = _popup({"type": "google-drive-auth-error", "error": str(exc)[:200]},
                              400 if isinstance(exc, Unauthorized) else 500)
        return resp, status
    resp, status = _popup({"type": "google-drive-auth-success", "user_email": me.get("emailAddress"),
                           "display_name": me.get("displayName")}, 200)
    resp.delete_cookie(OAUTH_COOKIE, path=f"{PREFIX}/auth")
    return resp, status


@bp.post(f"{PREFIX}/disconnect")
def drive_disconnect() -> Response | tuple[Response, int]:
    """Revoke the tokens, forget them, and mark the user's synced files disconnected."""
    body = json_body() or {}
    uid, err = _required_user(body)
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    info = _stored_info(user["key"])
    if info is not None:
        gdrive.revoke(_cfg(), info.get("refresh_token") or info.get("token"))
    with services().uow_factory() as uow:
        uow.conn.execute(update(lt.drive_credentials).where(lt.drive_credentials.c.user_id == user["key"])
                         .values(revoked=True, token_ciphertext=b"", updated_at=utcnow()))
        uow.conn.execute(update(lt.drive_files).where(lt.drive_files.c.user_id == user["key"])
                         .values(index_status="disconnected", updated_at=utcnow()))
        uow.commit()
    return jsonify({"status": "success", "message": "Google Drive disconnected"})


@bp.get(f"{PREFIX}/folders")
def drive_folders() -> Response | tuple[Response, int]:
    """The folder tree under 'My Drive'."""
    uid, err = _required_user()
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    return jsonify({"status": "success", "folder_tree": gdrive.build_tree(_client(user["key"]).folders())})


@bp.get(f"{PREFIX}/files")
def drive_files() -> Response | tuple[Response, int]:
    """One page of supported files (all files when folder_id is empty)."""
    uid, err = _required_user()
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    files, token = _client(user["key"]).files(request.args.get("folder_id") or None,
                                              request.args.get("page_token") or None)
    return jsonify({"status": "success", "files": files, "nextPageToken": token, "totalFiles": len(files)})


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sync_one(client: gdrive.DriveClient, user: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Download one file, ingest it for the user's organisation, and record it; returns its result entry."""
    svc = services()
    data, name = client.download(meta)
    now = utcnow()
    doc_id, status, error = None, "pending", None
    try:
        doc, _ = ingest(user["org_id"], name, data, uow_factory=svc.uow_factory, blobs=svc.blobs,
                        check_upload=svc.check_upload)
        doc_id = doc.id
        status = _INDEX_STATUS.get(doc.status, "pending")
    except InvalidDocument as exc:
        status, error = "failed", exc.message
    values = dict(org_id=user["org_id"], drive_file_name=meta["name"], mime_type=meta.get("mimeType"),
                  file_size=int(meta["size"]) if meta.get("size") else len(data),
                  drive_modified_time=_parse_time(meta.get("modifiedTime")), last_synced=now,
                  web_view_link=meta.get("webViewLink"), parent_folder_id=(meta.get("parents") or [None])[0],
                  document_id=doc_id, index_status=status, index_error=error, updated_at=now,
                  local_file_path=f"gdrive/{meta['id']}/{name}")
    with svc.uow_factory() as uow:
        where = (lt.drive_files.c.user_id == user["key"], lt.drive_files.c.drive_file_id == meta["id"])
        if uow.conn.execute(select(lt.drive_files.c.id).where(*where)).first():
            uow.conn.execute(update(lt.drive_files).where(*where).values(**values))
        else:
            uow.conn.execute(insert(lt.drive_files).values(user_id=user["key"], drive_file_id=meta["id"],
                                                           created_at=now, **values))
        uow.commit()
    entry: dict[str, Any] = {"file_id": meta["id"], "name": meta["name"], "status": "success",
                             "indexed": error is None, "document_id": doc_id}
    if error:
        entry["index_error"] = error
    return entry


@bp.post(f"{PREFIX}/sync")
def drive_sync() -> Response | tuple[Response, int]:
    """Download the chosen files (and the files of the chosen folders) into the user's pipeline."""
    body = json_body() or {}
    uid, err = _required_user(body)
    if err:
        return err
    file_ids = [str(x) for x in body.get("file_ids") or []]
    folder_ids = [str(x) for x in body.get("folder_ids") or []]
    if not file_ids and not folder_ids:
        return bad_request("No files or folders selected")
    user = _user(uid)  # type: ignore[arg-type]
    client = _client(user["key"])
    svc = services()
    with svc.uow_factory() as uow:
        sync_id = uow.conn.execute(insert(lt.drive_syncs).values(
            user_id=user["key"], sync_type="manual", status="in_progress", files_processed=0, files_failed=0,
            started_at=utcnow())).inserted_primary_key[0]
        uow.commit()
    metas: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for folder in folder_ids:
        token = None
        while True:
            files, token = client.files(folder, token)
            metas.extend(files)
            if not token:
                break
    for fid in file_ids:
        try:
            metas.append(client.metadata(fid))
        except Exception as exc:  # one missing file must not sink the batch; it is reported per file
            results.append({"file_id": fid, "name": fid, "status": "error", "error": str(exc)[:200]})
    for meta in metas:
        try:
            results.append(_sync_one(client, user, meta))
        except Exception as exc:  # reported per file, as the app expects
            log.warning("drive file sync failed", extra={"error": type(exc).__name__})
            results.append({"file_id": meta["id"], "name": meta.get("name"), "status": "error",
                            "error": str(exc)[:200]})
    ok = sum(r["status"] == "success" for r in results)
    failed = len(results) - ok
    with svc.uow_factory() as uow:
        uow.conn.execute(update(lt.drive_syncs).where(lt.drive_syncs.c.id == sync_id).values(
            status="completed" if ok or not failed else "failed", files_processed=ok, files_failed=failed,
            completed_at=utcnow()))
        uow.commit()
    return jsonify({"status": "success", "sync_id": int(sync_id), "files_processed": ok, "files_failed": failed,
                    "results": results})


def _file_json(r: Any, doc_status: dict[str, str], user_id: str) -> dict[str, Any]:
    status = r.index_status
    if status not in ("disconnected", "failed") and r.document_id in doc_status:
        status = doc_status[r.document_id]
    return {"id": r.id, "user_id": user_id, "drive_file_id": r.drive_file_id, "drive_file_name": r.drive_file_name,
            "mime_type": r.mime_type, "file_size": r.file_size, "drive_modified_time": _iso(r.drive_modified_time),
            "last_synced": _iso(r.last_synced), "local_file_path": r.local_file_path,
            "web_view_link": r.web_view_link, "parent_folder_id": r.parent_folder_id, "index_status": status,
            "index_error": r.index_error, "document_id": r.document_id, "created_at": _iso(r.created_at),
            "updated_at": _iso(r.updated_at)}


@bp.get(f"{PREFIX}/synced-files")
def drive_synced_files() -> Response | tuple[Response, int]:
    """The user's synced files, newest sync first, with their pipeline status."""
    uid, err = _required_user()
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    with services().uow_factory() as uow:
        rows = uow.conn.execute(select(lt.drive_files).where(lt.drive_files.c.user_id == user["key"])
                                .order_by(lt.drive_files.c.last_synced.desc())).all()
        doc_status = {}
        for r in rows:
            if r.document_id:
                try:
                    doc_status[r.document_id] = _INDEX_STATUS.get(
                        uow.documents.get(user["org_id"], r.document_id).status, "pending")
                except NotFound:
                    doc_status[r.document_id] = "failed"
    files = [_file_json(r, doc_status, user["id"]) for r in rows]
    return jsonify({"status": "success", "files": files, "count": len(files)})


@bp.get(f"{PREFIX}/sync/status/<int:sync_id>")
def drive_sync_status(sync_id: int) -> Response | tuple[Response, int]:
    """One sync record of the user."""
    uid = _user_id()
    caller = current_caller(uid)
    with services().uow_factory() as uow:
        r = uow.conn.execute(select(lt.drive_syncs).where(lt.drive_syncs.c.id == sync_id)).mappings().first()
        owner = records.get_user_by_key(uow.conn, r["user_id"]) if r else None
    visible = owner is not None and (uid is None or owner["id"] == uid) and \
        (caller.org_id is None or owner["org_id"] == caller.org_id)
    if not visible:
        return bad_request("Sync record not found", 404)
    sync = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in dict(r).items()}  # type: ignore[arg-type]
    sync["user_id"] = owner["id"]  # type: ignore[index]
    return jsonify({"status": "success", "sync": sync})


@bp.post(f"{PREFIX}/refresh/<drive_file_id>")
def drive_refresh(drive_file_id: str) -> Response | tuple[Response, int]:
    """Re-sync one file when Drive says it changed."""
    body = json_body() or {}
    uid, err = _required_user(body)
    if err:
        return err
    user = _user(uid)  # type: ignore[arg-type]
    with services().uow_factory() as uow:
        row = uow.conn.execute(select(lt.drive_files).where(lt.drive_files.c.user_id == user["key"],
                                                            lt.drive_files.c.drive_file_id == drive_file_id)).first()
    if row is None:
        return bad_request("File not found", 404)
    client = _client(user["key"])
    meta = client.metadata(drive_file_id)
    modified = _parse_time(meta.get("modifiedTime"))
    known = row.drive_modified_time
    if known is not None and known.tzinfo is None:
        known = known.replace(tzinfo=timezone.utc)
    if modified is not None and known is not None and modified <= known:
        return jsonify({"status": "success", "message": "File is up to date", "modified": False})
    _sync_one(client, user, meta)
    with services().uow_factory() as uow:
        row = uow.conn.execute(select(lt.drive_files).where(lt.drive_files.c.user_id == user["key"],
                                                            lt.drive_files.c.drive_file_id == drive_file_id)).first()
    return jsonify({"status": "success", "message": "File refreshed", "modified": True,
                    "file": _file_json(row, {}, uid)})  # type: ignore[arg-type]


