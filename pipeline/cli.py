"""`atlas`: the command line — serve, worker, extract, ingest, status, keys, migrate, eval, ask, reindex."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from pipeline.domain.errors import AtlasError
from pipeline.plugins import import_optional
from pipeline.settings import Settings, load_settings


def _settings() -> Settings:
    return load_settings()


def _services(migrate: bool = False):  # type: ignore[no-untyped-def]
    from pipeline.bootstrap import build

    return build(_settings(), migrate=migrate)


def _setup_logging(settings: Settings) -> None:
    from pipeline.logging_setup import configure_logging

    configure_logging(settings.log_level)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Atlas — cited lease terms, risk flags and questions across your leases.

    Configuration comes from environment variables (see README); embedded defaults need none.
    """


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic; SQLite or Postgres)."""
    settings = _settings()
    _setup_logging(settings)
    from pipeline.adapters.sql_engine import make_engine
    from pipeline.adapters.sql_engine import migrate as run

    run(make_engine(settings.sqlalchemy_url))
    click.echo(f"database at head: {make_engine(settings.sqlalchemy_url).url.render_as_string(hide_password=True)}")


def _dev_key(svc) -> str:  # type: ignore[no-untyped-def]
    """A stable development key for the 'dev' organisation, kept in the data directory (mode 0600)."""
    from pipeline.keys import authenticate, create_key

    path = svc.settings.data_dir / "dev_api_key"
    if path.exists():
        key = path.read_text().strip()
        try:
            authenticate(key, uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
            return key
        except AtlasError:
            pass  # stale key (database reset or pepper changed): make a new one below
    _, key, _ = create_key("dev", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def start_worker(svc):  # type: ignore[no-untyped-def]
    """Start the in-process worker over the durable queue (claims left by a crash are recovered first)."""
    from pipeline.adapters.sql_uow import recover_claims
    from pipeline.handlers import build_handlers, on_dead_letter
    from pipeline.worker import Worker

    recovered = recover_claims(svc.engine)
    if recovered:
        click.echo(f"recovered {recovered} unfinished event(s) from the last run", err=True)
    worker = Worker(svc.queue, build_handlers(svc), on_dead=on_dead_letter(svc))
    worker.start(svc.settings.worker_threads)
    return worker


@main.command()
@click.option("--host", default=None, help="Bind address (default INDEX_SERVER_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 5601).")
@click.option("--dev-key", is_flag=True, help="Print a ready-to-use API key for the 'dev' organisation.")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded worker in this process.")
@click.option("--threads", default=8, show_default=True, help="HTTP worker threads.")
def serve(host: str | None, port: int | None, dev_key: bool, no_worker: bool, threads: int) -> None:
    """Serve the API (port 5601) with the in-process worker (embedded runtime)."""
    from waitress import create_server

    from api.app import create_app

    settings = _settings()
    _setup_logging(settings)
    settings.check_production()
    from pipeline.bootstrap import build
    from pipeline.tracing import setup_tracing

    setup_tracing(settings)

    svc = build(settings, migrate=settings.runtime == "embedded")
    app = create_app(svc)
    worker = None
    if settings.runtime == "embedded" and settings.embedded_worker and not no_worker:
        worker = start_worker(svc)
    host = host or settings.host
    port = port or settings.port
    server = create_server(app, host=host, port=port, threads=threads, channel_timeout=300,
                           max_request_body_size=settings.max_upload_bytes + 2 * 1024 * 1024)

    def _stop(*_: Any) -> None:
        server.close()

    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"Atlas listening on http://{host}:{port}  (runtime={settings.runtime}, "
               f"data={settings.data_dir})", err=True)
    if dev_key:
        key = _dev_key(svc)
        click.echo(f"\n  dev API key: {key}\n  try: curl -H 'Authorization: Bearer {key}' "
                   f"-F file=@lease.pdf http://{host}:{port}/v1/documents\n", err=True)
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        if worker is not None:
            worker.stop()


@main.command()
@click.option("--once", is_flag=True, help="Drain the queue and exit instead of running forever.")
def worker(once: bool) -> None:
    """Run the embedded worker alone (processes queued documents)."""
    settings = _settings()
    _setup_logging(settings)
    svc = _services(migrate=settings.runtime == "embedded")
    if once:
        from pipeline.handlers import build_handlers, on_dead_letter
        from pipeline.worker import Worker

        n = Worker(svc.queue, build_handlers(svc), on_dead=on_dead_letter(svc)).drain(timeout_s=3600)
        click.echo(f"handled {n} event(s)")
        return
    w = start_worker(svc)
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    try:
        while not stop["flag"]:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    w.stop()


def _print_table(result: dict[str, Any]) -> None:
    click.echo(f"kind: {result.get('kind')}   extractor: {result.get('extractor_version')}")
    click.echo(f"{'field':<24}{'value':<44}{'conf':>6}  {'status':<13}page")
    for name, f in result["fields"].items():
        value = "" if f["value"] is None else str(f["value"])
        page = f["citations"][0]["page"] if f["citations"] else ""
        click.echo(f"{name:<24}{value[:42]:<44}{f['confidence']:>6.2f}  {f['status']:<13}{page}")
    if result["rent_schedule"]:
        click.echo("\nrent schedule:")
        for p in result["rent_schedule"]:
            click.echo(f"  {p['start']} → {p['end']}: {p['monthly_rent']:,.2f}/month")
    if result["risk_flags"]:
        click.echo("\nrisk flags:")
        for fl in result["risk_flags"]:
            page = fl["citations"][0]["page"] if fl["citations"] else "?"
            click.echo(f"  [{fl['severity']}] {fl['type']} (p.{page})")
    for w in result.get("warnings", []):
        click.echo(f"warning: {w['code']}: {w['message']}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the eval prediction format (JSON).")
def extract(file: Path, as_json: bool) -> None:
    """Parse and extract one lease FILE directly (no server, no database)."""
    settings = _settings()
    from pipeline.bootstrap import build_extractor, quiet_third_parties
    from pipeline.parse import ParseLimits, parse_document

    quiet_third_parties(settings)
    limits = ParseLimits(max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages,
                         max_page_pixels=settings.max_page_pixels, timeout_s=settings.parse_timeout_s,
                         max_text_chars=settings.max_text_chars, ocr_workers=settings.ocr_workers)
    try:
        from pipeline.parse.formats import check_upload

        data = file.read_bytes()
        check_upload(data, file.name, limits=limits)
        parsed = parse_document(data, limits=limits)
        result = build_extractor(settings).extract(parsed).to_dict()
    except AtlasError as exc:
        click.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}), err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result)


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--org", default="dev", show_default=True, help="Organisation the documents belong to.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Process the queue before returning.")
@click.option("--timeout", default=3600, show_default=True, help="Seconds to wait for processing.")
def ingest(directory: Path, org: str, wait: bool, timeout: int) -> None:
    """Upload every file in DIRECTORY through the pipeline, with progress and a summary."""
    from tqdm import tqdm

    from pipeline.domain.errors import InvalidDocument
    from pipeline.handlers import build_handlers, on_dead_letter
    from pipeline.usecases.ingest import ingest as ingest_one

    settings = _settings()
    svc = _services(migrate=settings.runtime == "embedded")
    with svc.uow_factory() as uow:
        org_row = uow.keys.get_org_by_name(org) or uow.keys.create_org(org)
        uow.commit()
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    created, dupes, rejected, ids = 0, 0, [], []
    for path in tqdm(files, desc="uploading", unit="file"):
        try:
            doc, new = ingest_one(org_row.id, path.name, path.read_bytes(), uow_factory=svc.uow_factory,
                                  blobs=svc.blobs, check_upload=svc.check_upload)
        except InvalidDocument as exc:
            rejected.append((path.name, exc.code))
            continue
        ids.append(doc.id)
        created += new
        dupes += not new
    if wait and ids:
        from pipeline.domain.events import DOCUMENT_UPLOADED
        from pipeline.worker import run_stages

        handlers = build_handlers(svc)
        # Two stages in two threads: parse + extract of the next document while the last one is embedded.
        stages = [(DOCUMENT_UPLOADED,), tuple(t for t in handlers if t != DOCUMENT_UPLOADED)]
        with tqdm(total=len(ids), desc="processing", unit="doc") as bar:
            def settled() -> int:
                with svc.uow_factory() as uow:
                    return sum(uow.documents.get(org_row.id, i).status.value in ("ready", "failed") for i in ids)

            def indexed() -> bool:
                n = settled()
                bar.update(n - bar.n)
                depth = svc.queue.depth()  # every document settled and its index event applied
                return n == len(ids) and not depth.get("pending") and not depth.get("claimed")

            run_stages(svc.queue, handlers, stages, done=indexed, timeout_s=timeout, on_dead=on_dead_letter(svc))
    with svc.uow_factory() as uow:
        statuses = [uow.documents.get(org_row.id, i).status.value for i in ids]
    click.echo(f"\n{len(files)} file(s): {created} new, {dupes} already known, {len(rejected)} rejected")
    for status in ("ready", "failed", "processing", "queued"):
        if statuses.count(status):
            click.echo(f"  {status}: {statuses.count(status)}")
    for name, code in rejected:
        click.echo(f"  rejected {name}: {code}")


@main.command()
@click.option("--org", default=None, help="Only this organisation.")
def status(org: str | None) -> None:
    """Documents per status and the queue depth."""
    svc = _services()
    with svc.uow_factory() as uow:
        org_id = None
        if org:
            o = uow.keys.get_org_by_name(org)
            if o is None:
                raise click.ClickException(f"no organisation named {org!r}")
            org_id = o.id
        from sqlalchemy import func, select

        from pipeline.adapters import sql_tables as t

        q = select(t.documents.c.status, func.count()).group_by(t.documents.c.status)
        if org_id:
            q = q.where(t.documents.c.org_id == org_id)
        rows = uow.conn.execute(q).all()
    click.echo("documents: " + (", ".join(f"{s}={n}" for s, n in rows) or "none"))
    click.echo("queue: " + (", ".join(f"{s}={n}" for s, n in sorted(svc.queue.depth().items())) or "empty"))


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--org", required=True, help="Organisation name (created if new).")
@click.option("--expires-days", type=int, default=None, help="Key lifetime in days (default: no expiry).")
def keys_create(org: str, expires_days: int | None) -> None:
    """Print a new API key for ORG (shown once; stored hashed)."""
    from datetime import timedelta

    from pipeline.domain.model import utcnow
    from pipeline.keys import create_key

    svc = _services(migrate=_settings().runtime == "embedded")
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    o, clear, key = create_key(org, uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper,
                               expires_at=expires)
    click.echo(clear)
    click.echo(f"organisation {o.name} ({o.id}), key id {key.id}", err=True)


@keys.command("list")
@click.option("--org", required=True)
def keys_list(org: str) -> None:
    """List ORG's keys (ids, prefixes, last use; never the key)."""
    svc = _services()
    with svc.uow_factory() as uow:
        o = uow.keys.get_org_by_name(org)
        if o is None:
            raise click.ClickException(f"no organisation named {org!r}")
        for k in uow.keys.list_keys(o.id):
            state = "revoked" if k.revoked_at else "active"
            click.echo(f"{k.id}  atl_{k.prefix}_…  {state}  created {k.created_at:%Y-%m-%d}  "
                       f"last used {k.last_used_at or 'never'}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key with KEY_ID."""
    svc = _services()
    with svc.uow_factory() as uow:
        uow.keys.revoke_key(key_id)
        uow.commit()
    click.echo(f"revoked {key_id}")


@main.command("eval")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scorer", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Path to eval/score.py (default: ../shared/eval/score.py from the repo).")
@click.option("--json-out", type=click.Path(path_type=Path), default=None, help="Write the JSON report here.")
@click.option("--md-out", type=click.Path(path_type=Path), default=None, help="Write the Markdown report here.")
def eval_cmd(directory: Path, scorer: Path | None, json_out: Path | None, md_out: Path | None) -> None:
    """Score the extractor over DIRECTORY (holding truth.jsonl) with the shared scorer."""
    repo = Path(__file__).resolve().parent.parent
    scorer = scorer or (repo.parent / "shared" / "eval" / "score.py")
    if not scorer.exists():
        raise click.ClickException(f"scorer not found at {scorer}; pass --scorer")
    truth = directory / "truth.jsonl"
    if not truth.exists():
        raise click.ClickException(f"{truth} not found")
    atlas = Path(sys.executable).with_name("atlas")
    cmd = [sys.executable, str(scorer), "--truth", str(truth), "--docs-root", str(directory),
           "--cmd", f"{atlas} extract {{file}} --json"]
    if json_out:
        cmd += ["--json", str(json_out)]
    if md_out:
        cmd += ["--md", str(md_out)]
    sys.exit(subprocess.call(cmd))


def _register_optional_commands() -> None:
    """Commands contributed by later capabilities (search: ask/reindex; legacy: audit)."""
    for module in ("pipeline.index.cli", "pipeline.legacy.cli"):
        mod = import_optional(module)
        if mod is None:
            continue
        for command in mod.commands:
            main.add_command(command)


_register_optional_commands()
