"""`atlas ask` and `atlas reindex`: questions and index rebuilds from the command line."""
from __future__ import annotations

import functools
import json

import click


@click.command("ask")
@click.argument("question")
@click.option("--org", "org", default="dev", show_default=True,
              help="Organisation (name or id) whose documents to search.")
@click.option("--doc", "document_ids", multiple=True, help="Limit to these document ids (repeatable).")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask_cmd(question: str, org: str, document_ids: tuple[str, ...], top_k: int, as_json: bool) -> None:
    """Answer a question over one organisation's leases, citing document, page and quote."""
    from pipeline.adapters.chroma_search import build_llm, build_retriever, extractions_lookup
    from pipeline.bootstrap import build
    from pipeline.settings import load_settings
    from pipeline.usecases.ask import ask

    svc = build(load_settings())
    with svc.uow_factory() as uow:
        found = uow.keys.get_org_by_name(org) or uow.keys.get_org(org)
    if found is None:
        raise click.ClickException(f"no organisation named {org!r}")
    answer = ask(found.id, question, document_ids=list(document_ids) or None, top_k=top_k,
                 retriever=build_retriever(svc.settings), extractions_lookup=extractions_lookup(svc.uow_factory),
                 llm=build_llm(svc.settings))
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2))
        return
    click.echo(answer.answer)
    for i, s in enumerate(answer.sources, start=1):
        click.echo(f"  [{i}] {s.filename or s.document_id} p.{s.page}: {s.quote[:160]}")


@click.command("reindex")
def reindex_cmd() -> None:
    """Rebuild the whole search index from the database and blobs as a fresh generation."""
    from sqlalchemy import select

    from pipeline.adapters import sql_tables as t
    from pipeline.adapters.chroma_search import build_embedder, build_writer
    from pipeline.bootstrap import build
    from pipeline.settings import load_settings
    from pipeline.usecases.extract import load_parsed
    from pipeline.usecases.index import reindex_all

    svc = build(load_settings())
    with svc.engine.connect() as conn:
        ids = [(r.org_id, r.id) for r in conn.execute(select(t.documents.c.org_id, t.documents.c.id))]

    def documents():  # type: ignore[no-untyped-def]
        for org_id, doc_id in ids:
            with svc.uow_factory() as uow:
                yield uow.documents.get(org_id, doc_id)

    gen = reindex_all(documents(), uow_factory=svc.uow_factory,
                      load_parsed=functools.partial(load_parsed, blobs=svc.blobs, parse=svc.parse),
                      embedder=build_embedder(svc.settings), index_writer=build_writer(svc.settings))
    click.echo(f"published {gen}")


commands = [ask_cmd, reindex_cmd]
