"""`atlas audit`: check the activity ledger's hash chains."""
from __future__ import annotations

import sys

import click


@click.group()
def audit() -> None:
    """Inspect the activity ledger (SHA-256 hash chain per organisation)."""


@audit.command("verify")
@click.option("--org", "org_name", default=None, help="Only this organisation (by name, e.g. user:<user_id>).")
def verify_cmd(org_name: str | None) -> None:
    """Recompute every chain; exits 1 naming the first edited or deleted entry."""
    from sqlalchemy import select

    from pipeline.adapters import sql_tables as t
    from pipeline.adapters.sql_engine import make_engine
    from pipeline.legacy.ledger import ledger_orgs, verify
    from pipeline.settings import load_settings

    from sqlalchemy import inspect

    engine = make_engine(load_settings().sqlalchemy_url)
    if not inspect(engine).has_table("blockchain_activities"):
        raise click.ClickException("the database has no activity ledger; run `atlas migrate` first")
    broken = 0
    with engine.connect() as conn:
        names = {r.id: r.name for r in conn.execute(select(t.organisations.c.id, t.organisations.c.name))}
        if org_name is not None:
            org_ids = [i for i, n in names.items() if n == org_name]
            if not org_ids:
                raise click.ClickException(f"no organisation named {org_name!r}")
        else:
            org_ids = ledger_orgs(conn)
        for org_id in org_ids:
            res = verify(conn, org_id)
            label = names.get(org_id, org_id)
            if res.ok:
                click.echo(f"ok      {label}: {res.entries} entries")
            else:
                broken += 1
                where = f"block {res.block_number}" + (f" (activity {res.activity_id})" if res.activity_id else "")
                click.echo(f"BROKEN  {label}: {where}: {res.reason}")
    if broken:
        click.echo(f"{broken} broken ledger(s)", err=True)
        sys.exit(1)
    click.echo(f"all {len(org_ids)} ledger(s) verified")


commands = [audit]
