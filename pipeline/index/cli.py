"""`atlas ask`, `atlas reindex` and `atlas eval-qa`: questions, index rebuilds and the Q&A evaluation."""
from __future__ import annotations

import functools
import json
from pathlib import Path

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


_REPO = Path(__file__).resolve().parents[2]


@click.command("eval-qa")
@click.option("--questions", "question_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Question files (JSONL; repeatable). Default: eval/qa/dev.jsonl and eval/qa/heldout.jsonl.")
@click.option("--corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=_REPO / "eval" / "qa" / "corpus.json", show_default=True, help="Documents to index.")
@click.option("--shared", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=_REPO.parent / "shared", show_default=True, help="Folder the corpus paths are relative to.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the evaluation index is kept between runs (default: <data dir>/qa-eval).")
@click.option("--llm/--no-llm", "use_llm", default=False, show_default=True,
              help="Answer with the configured LLM (OPENAI_API_KEY) instead of extractively.")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the full report (figures and every question's answer) here.")
@click.option("--show-failures", is_flag=True, help="Print each question that was not answered correctly.")
def eval_qa_cmd(question_files: tuple[Path, ...], corpus: Path, shared: Path, cache: Path | None, use_llm: bool,
                json_out: Path | None, show_failures: bool) -> None:
    """Score question answering: passage recall@5, answer correctness, portfolio set F1, refusals, latency."""
    from pipeline.adapters.chroma_index import ChromaIndexReader
    from pipeline.adapters.chroma_search import build_embedder, build_llm
    from pipeline.bootstrap import build_extractor, quiet_third_parties
    from pipeline.index import qa_eval
    from pipeline.index.retrieve import Retriever, RetrieverConfig
    from pipeline.parse import parse_document
    from pipeline.settings import load_settings
    from pipeline.usecases.ask import ask

    settings = load_settings()
    quiet_third_parties(settings)
    files = list(question_files) or [_REPO / "eval" / "qa" / "dev.jsonl", _REPO / "eval" / "qa" / "heldout.jsonl"]
    questions = qa_eval.load_questions(files)
    llm = build_llm(settings) if use_llm else None
    if use_llm and llm is None:
        raise click.ClickException("--llm needs OPENAI_API_KEY")
    docs = qa_eval.load_corpus(shared, corpus, build_extractor(settings).extract, parse_document)
    rows = [(d.id, d.filename, d.result) for d in docs]

    def lookup(org_id: str, document_ids):  # type: ignore[no-untyped-def]
        return [r for r in rows if org_id == qa_eval.ORG and (document_ids is None or r[0] in document_ids)]

    embedder = build_embedder(settings)
    with qa_eval.index_for(docs, embedder, cache or settings.data_dir / "qa-eval") as root:
        reader = ChromaIndexReader(root)
        retriever = Retriever(reader, embedder, RetrieverConfig())
        results = qa_eval.run(
            questions,
            answer=lambda q: ask(qa_eval.ORG, q, retriever=retriever, extractions_lookup=lookup, llm=llm),
            retrieve=lambda q: retriever.retrieve(qa_eval.ORG, q, top_k=5))
        reader.close()
    out = qa_eval.report(results)
    if json_out:
        json_out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    if show_failures:
        for r in results:
            if not r.correct:
                click.echo(f"✗ {r.id} [{r.kind}/{r.split}] {r.question}\n    → {r.answer[:300]}")
    for split, figures in out.items():
        if split != "results":
            click.echo(f"{split:8} " + "  ".join(f"{k}={v}" for k, v in figures.items()))


commands = [ask_cmd, reindex_cmd, eval_qa_cmd]
