"""`atlas`: the command line — serve, worker, extract, ingest, status, keys, migrate, eval, calibrate, eval-qa,
ask, reindex, export-truth, audit."""
from __future__ import annotations

import functools
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
    from pipeline.usecases.webhooks import DeliveryLoop, deliver_due, http_post
    from pipeline.worker import Worker

    recovered = recover_claims(svc.engine)
    if recovered:
        click.echo(f"recovered {recovered} unfinished event(s) from the last run", err=True)
    worker = Worker(svc.queue, build_handlers(svc), on_dead=on_dead_letter(svc))
    worker.start(svc.settings.worker_threads)
    webhooks = DeliveryLoop(functools.partial(deliver_due, uow_factory=svc.uow_factory, post=http_post(),
                                              allow_private=svc.settings.webhooks_may_call_private))
    webhooks.start()
    worker.also_stop(webhooks.stop)
    return worker


@main.command()
@click.option("--host", default=None, help="Bind address (default ATLAS_HOST/INDEX_SERVER_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 5601).")
@click.option("--dev-key", is_flag=True, help="Print a ready-to-use API key for the 'dev' organisation.")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded worker in this process.")
@click.option("--threads", default=8, show_default=True,
              help="HTTP worker threads (must exceed ATLAS_LEGACY_MAX_WAITS).")
def serve(host: str | None, port: int | None, dev_key: bool, no_worker: bool, threads: int) -> None:
    """Serve the API (port 5601) with the in-process worker (embedded runtime).

    SIGTERM/SIGINT stop it gracefully: no new requests, in-flight ones and the worker's current document get
    ATLAS_SHUTDOWN_GRACE_S seconds, unfinished work goes back to the queue, exit status 0.
    """
    from api.app import create_app
    from api.serve import PortInUse, Server

    settings = _settings()
    _setup_logging(settings)
    settings.check_production()
    if threads <= settings.legacy_max_waits:
        raise click.UsageError(f"--threads ({threads}) must exceed ATLAS_LEGACY_MAX_WAITS "
                               f"({settings.legacy_max_waits}), or held pipeline waits can take every thread")
    from pipeline.bootstrap import build
    from pipeline.tracing import setup_tracing

    host = host or settings.host
    port = port or settings.port
    _check_bind(settings, host)
    setup_tracing(settings)
    svc = build(settings, migrate=settings.runtime == "embedded")
    app = create_app(svc)
    try:
        server = Server(app, host=host, port=port, threads=threads, grace_s=settings.shutdown_grace_s,
                        max_body=settings.max_upload_bytes + 2 * 1024 * 1024,
                        on_drain=app.extensions["atlas_wait_slots"].close)
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None
    for bound_host, _ in server.bound:
        _check_bind(settings, bound_host)  # the address actually bound, not only the one configured
    if settings.runtime == "embedded" and settings.embedded_worker and not no_worker:
        server.worker = start_worker(svc)
    server.install_signal_handlers()
    click.echo(f"Atlas listening on http://{host}:{port}  (runtime={settings.runtime}, "
               f"data={settings.data_dir}); review workspace at http://{host}:{port}/app/", err=True)
    if dev_key:
        key = _dev_key(svc)
        click.echo(f"\n  dev API key: {key}\n  try: curl -H 'Authorization: Bearer {key}' "
                   f"-F file=@lease.pdf http://{host}:{port}/v1/documents\n", err=True)
    clean = server.run()
    click.echo("Atlas stopped" + ("" if clean else " (unfinished work was released to the queue)"), err=True)
    _exit_now_if_threads_remain()


def _check_bind(settings: Settings, host: str) -> None:
    from pipeline.settings import UnsafeSettings

    try:
        settings.check_bind(host)
    except UnsafeSettings as exc:
        raise click.ClickException(str(exc)) from None


def _exit_now_if_threads_remain() -> None:
    """Exit 0 even when a library thread (an OCR pool, a stuck socket) would hold interpreter shutdown."""
    import logging
    import os
    import threading

    stuck = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not stuck:
        return
    logging.getLogger(__name__).warning("exiting with threads still running", extra={"threads": stuck[:10]})
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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
    from pipeline.bootstrap import quiet_third_parties
    from pipeline.extract.evaluation import extract_file

    quiet_third_parties(settings)
    try:
        result = extract_file(file, settings)
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


def _scorer_path(scorer: Path | None) -> Path:
    """The shared scorer: the given path or ../shared/eval/score.py beside the repository."""
    scorer = scorer or (Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "score.py")
    if not scorer.exists():
        raise click.ClickException(f"scorer not found at {scorer}; pass --scorer")
    return scorer


def _labelled_sets(truths: tuple[Path, ...], roots: tuple[Path, ...]):  # type: ignore[no-untyped-def]
    """--truth/--docs-root pairs (each root defaults to its truth file's folder) as LabelledSets."""
    from pipeline.extract.evaluation import LabelledSet, repo_relative

    if roots and len(roots) != len(truths):
        raise click.UsageError("give one --docs-root per --truth, or none (each truth file's folder)")
    return [LabelledSet(repo_relative(t), t, roots[i] if roots else t.parent) for i, t in enumerate(truths)]


def _report_reliability(report: dict[str, Any], png: Path, title: str) -> None:
    """Print the per-bin and per-field reliability of a scorer report and draw its reliability diagram."""
    from pipeline.extract.calibration import per_field_reliability
    from pipeline.extract.evaluation import items_by_doc
    from pipeline.extract.reliability_plot import draw_reliability

    items = [it for its in items_by_doc(report).values() for it in its]
    fields = per_field_reliability(items)
    ece = report["summary"]["ece"]
    click.echo(f"\n== Reliability ({title}) ==  ECE {'n/a' if ece is None else f'{ece:.3f}'} over {len(items)} values")
    click.echo(f"{'bin':<12}{'count':>6}{'mean conf':>11}{'accuracy':>10}{'gap':>8}")
    for b in report["reliability"]:
        if b["count"]:
            click.echo(f"[{b['bin_lower']:.1f}, {b['bin_upper']:.1f}) {b['count']:>6}{b['mean_confidence']:>11.3f}"
                       f"{b['accuracy']:>10.3f}{b['gap']:>+8.3f}")
    click.echo(f"\n{'field':<24}{'values':>7}{'mean conf':>11}{'accuracy':>10}{'gap':>8}{'ece':>8}")
    for name, f in fields.items():
        click.echo(f"{name:<24}{f['values']:>7}{f['mean_confidence']:>11.3f}{f['accuracy']:>10.3f}"
                   f"{f['gap']:>+8.3f}{f['ece']:>8.3f}")
    click.echo(f"reliability diagram: {draw_reliability(report['reliability'], fields, png, title, ece)}")


@main.command("eval")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--truth", "truths", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Truth file(s) whose paths are relative to DIRECTORY (repeatable; default DIRECTORY/truth.jsonl).")
@click.option("--cv", is_flag=True,
              help="Leave-one-document-out: each document's confidences come from a map re-fitted on the shipped "
                   "map's training sets without that document (extractions run once, in-process).")
@click.option("--scorer", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Path to eval/score.py (default: ../shared/eval/score.py from the repo).")
@click.option("--json-out", type=click.Path(path_type=Path), default=None,
              help="Write the JSON report here (default eval-reports/<DIRECTORY name>[-cv].json).")
@click.option("--md-out", type=click.Path(path_type=Path), default=None, help="Write the Markdown report here.")
def eval_cmd(directory: Path, truths: tuple[Path, ...], cv: bool, scorer: Path | None, json_out: Path | None,
             md_out: Path | None) -> None:
    """Score the extractor over DIRECTORY with the shared scorer; print per-field reliability and write a
    reliability diagram (PNG) beside the JSON report."""
    from pipeline.extract import evaluation
    from pipeline.extract.calibration import CANDIDATES, FitParams, shipped_map

    scorer = _scorer_path(scorer)
    truths = truths or (directory / "truth.jsonl",)
    for t in truths:
        if not t.exists():
            raise click.ClickException(f"{t} not found")
    sets = [evaluation.LabelledSet(directory.name, t, directory) for t in truths]
    json_out = json_out or Path("eval-reports") / f"{directory.resolve().name}{'-cv' if cv else ''}.json"
    json_out.parent.mkdir(parents=True, exist_ok=True)
    settings = _settings()
    with evaluation.temp_workdir() as tmp:
        if cv:
            if settings.extractor != "rules":
                raise click.ClickException("--cv re-fits the rules extractor's calibration; set ATLAS_EXTRACTOR=rules")
            cmap = shipped_map()
            try:
                pool = evaluation.resolve_training_sets(cmap)
            except FileNotFoundError as exc:
                raise click.ClickException(str(exc)) from exc
            run = evaluation.cross_validated_eval(
                sets, pool, settings, scorer, Path(tmp),
                candidates=[FitParams(**c) for c in cmap.provenance.get("candidates", [])] or CANDIDATES,
                json_out=json_out, md_out=md_out,
                progress=lambda m: click.echo(m, err=True))
            click.echo(run.text, nl=False)
            report = run.report
        else:
            truth = Path(tmp) / "truth.jsonl"
            truth.write_text("".join(json.dumps(d.record, ensure_ascii=False) + "\n"
                                     for d in evaluation.load_docs(sets)), encoding="utf-8")
            atlas = Path(sys.executable).with_name("atlas")
            cmd = [sys.executable, str(scorer), "--truth", str(truth), "--docs-root", tmp,
                   "--cmd", f"{atlas} extract {{file}} --json", "--json", str(json_out)]
            if md_out:
                cmd += ["--md", str(md_out)]
            code = subprocess.call(cmd)
            if code != 0:
                sys.exit(code)
            report = json.loads(json_out.read_text(encoding="utf-8"))
    _report_reliability(report, json_out.with_suffix(".reliability.png"),
                        f"{directory.resolve().name}{' (leave-one-document-out)' if cv else ''}")
    if not cv:
        trained = _trained_on(evaluation.load_docs(sets))
        if trained:
            click.echo(f"note: {trained} of these documents trained the shipped calibration, so its confidence "
                       f"figures are in-sample here; --cv gives out-of-sample ones")


def _trained_on(docs) -> int:  # type: ignore[no-untyped-def]
    """How many of `docs` are in the shipped calibration map's training sets (0 when those are not on disk)."""
    from pipeline.extract import evaluation
    from pipeline.extract.calibration import shipped_map

    try:
        pool = {d.path for d in evaluation.load_docs(evaluation.resolve_training_sets(shipped_map()))}
    except FileNotFoundError:
        return 0
    return sum(d.path in pool for d in docs)


@main.command()
@click.option("--truth", "truths", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A truth.jsonl to fit on (repeat for several sets, e.g. realdev and leasepool).")
@click.option("--docs-root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder the matching --truth's paths are relative to (one per --truth, or none: its folder).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the map (default: the shipped pipeline/extract/calibration.json).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval-reports/calibration"), show_default=True,
              help="Out-of-fold scorer report (JSON, Markdown) and reliability diagram.")
@click.option("--scorer", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Path to eval/score.py (default: ../shared/eval/score.py from the repo).")
def calibrate(truths: tuple[Path, ...], roots: tuple[Path, ...], out: Path | None, report_dir: Path,
              scorer: Path | None) -> None:
    """Fit the confidence calibration on labelled sets; print leave-one-document-out ECE/F1; write the map."""
    from pipeline.extract import evaluation
    from pipeline.extract.calibration import SHIPPED_PATH

    scorer = _scorer_path(scorer)
    settings = _settings()
    sets = _labelled_sets(truths, roots)
    with evaluation.temp_workdir() as tmp:
        result = evaluation.fit_and_report(sets, settings, scorer, Path(tmp),
                                           progress=lambda m: click.echo(m, err=True),
                                           command="atlas calibrate " + " ".join(sys.argv[2:]))
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "oof-report.json").write_text(json.dumps(result["oof"].report, indent=1), encoding="utf-8")
        (report_dir / "oof-report.md").write_text((Path(tmp) / "oof" / "report.md").read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    target = out or SHIPPED_PATH
    result["map"].save(target)  # before printing: a closed pipe (| head) must not lose the fit
    prov = result["map"].provenance
    click.echo(f"{'set':<44}{'docs':>5}{'values':>7}{'raw ece':>9}{'oof ece':>9}{'macro F1':>10}")
    for s in prov["training_sets"]:
        o = prov["out_of_fold"]["per_set"][s["name"]]
        click.echo(f"{s['name']:<44}{o['docs']:>5}{o['values']:>7}{_fmt(o['uncalibrated_raw_score_ece']):>9}"
                   f"{_fmt(o['ece']):>9}{_fmt(o['macro_f1']):>10}")
    o = prov["out_of_fold"]
    click.echo(f"{'all (leave-one-document-out)':<44}{o['docs']:>5}{o['values']:>7}"
               f"{_fmt(o['uncalibrated_raw_score_ece']):>9}{_fmt(o['ece']):>9}{_fmt(o['macro_f1']):>10}")
    chosen = result["map"].params
    click.echo(f"chosen on all documents: prior {chosen.prior}, weight {chosen.prior_weight:g}")
    _report_reliability(result["oof"].report, report_dir / "oof-reliability.png", "out-of-fold, all sets")
    click.echo(f"calibration map written to {target}")


def _fmt(value: float | None) -> str:
    """A metric to 3 decimals, or n/a."""
    return "n/a" if value is None else f"{value:.3f}"


def _register_optional_commands() -> None:
    """Commands contributed by later capabilities (search: ask/reindex; legacy: audit)."""
    for module in ("pipeline.index.cli", "pipeline.legacy.cli"):
        mod = import_optional(module)
        if mod is None:
            continue
        for command in mod.commands:
            main.add_command(command)


_register_optional_commands()


@main.command("export-truth")
@click.option("--org", required=True, help="Organisation name.")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export_truth(org: str, out_dir: Path) -> None:
    """Write reviewed documents as labelled data: OUT_DIR/truth.jsonl (eval/FORMAT.md) and OUT_DIR/docs/."""
    from pipeline.usecases.exports import reviewed_records, truth_line
    from pipeline.usecases.ingest import safe_display_name

    svc = _services()
    with svc.uow_factory() as uow:
        found = uow.keys.get_org_by_name(org)
    if found is None:
        raise click.ClickException(f"no organisation named {org!r}")
    records = reviewed_records(found.id, uow_factory=svc.uow_factory)
    (out_dir / "docs").mkdir(parents=True, exist_ok=True)
    files = {r.document.id: f"docs/{r.document.id[:8]}_{safe_display_name(r.document.filename)}" for r in records}
    with (out_dir / "truth.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            (out_dir / files[rec.document.id]).write_bytes(svc.blobs.get(rec.document.blob_key))
            line = truth_line(rec, files[rec.document.id], amends=files.get(rec.document.amends_document_id or ""))
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    click.echo(f"{len(records)} reviewed document(s) written to {out_dir / 'truth.jsonl'}")


if __name__ == "__main__":
    main()
