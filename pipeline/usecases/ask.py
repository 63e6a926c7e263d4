"""Ask: answer a question over one organisation's leases, citing document, page and quote."""
from __future__ import annotations

import logging
from typing import Any, Callable, Protocol, Sequence

from pipeline.domain.model import ExtractionResult, FieldStatus
from pipeline.index.answer import (Answer, Source, cited_sentences, field_of, is_portfolio_question,
                                   numbered_context, source_for)
from pipeline.ports import Hit

log = logging.getLogger(__name__)

ExtractionsLookup = Callable[[str, Sequence[str] | None], list[tuple[str, str, ExtractionResult]]]

SYSTEM_PROMPT = (
    "You answer questions about commercial leases using only the numbered passages given. "
    "Every sentence of your answer must end with the number of the passage it relies on, like [1] or [2]. "
    "If the passages do not answer the question, say so in one sentence citing the closest passage.")


class PassageRetriever(Protocol):
    """Top passages of one organisation (pipeline.index.retrieve.Retriever satisfies it)."""

    def retrieve(self, org_id: str, question: str, *, top_k: int = 5,
                 document_ids: Sequence[str] | None = None) -> list[Hit]: ...


class ChatLLM(Protocol):
    """One chat completion: system + user message in, text out."""

    def complete(self, system: str, user: str) -> str: ...


def _structured(org_id: str, question: str, field_name: str, hits: Sequence[Hit],
                document_ids: Sequence[str] | None, lookup: ExtractionsLookup) -> Answer | None:
    """Answer a field question from the latest extractions (one document, or the portfolio)."""
    rows = lookup(org_id, document_ids)
    if not rows:
        return None
    if document_ids is None and not is_portfolio_question(question) and hits:
        # A targeted question ("when does the Dallas lease expire?"): the best passage says which lease.
        rows = [r for r in rows if r[0] == hits[0].chunk.document_id] or rows
    lines, sources = [], []
    for doc_id, filename, result in rows:
        fv = result.field(field_name)
        if fv.status == FieldStatus.NOT_FOUND or fv.value is None:
            continue
        lines.append(f"{filename}: {field_name.replace('_', ' ')} is {fv.value}")
        for c in fv.citations[:1]:
            sources.append(Source(document_id=doc_id, filename=filename, page=c.page, quote=c.quote,
                                  score=float(fv.confidence), start=c.start, end=c.end))
    if not lines:
        return None
    return Answer(answer="; ".join(lines) + ".", sources=sources, mode="extractive")


def ask(org_id: str, question: str, *, document_ids: Sequence[str] | None = None, top_k: int = 5,
        retriever: PassageRetriever, extractions_lookup: ExtractionsLookup | None = None,
        llm: ChatLLM | None = None) -> Answer:
    """Answer from the organisation's own documents only: structured, extractive or LLM-synthesised."""
    if not org_id:
        raise ValueError("org_id is required")
    question = question.strip()
    if not question:
        return Answer(answer="", sources=[], mode="extractive")
    hits = retriever.retrieve(org_id, question, top_k=top_k, document_ids=document_ids)
    sources = [source_for(question, h) for h in hits]

    field_name = field_of(question)
    if field_name and extractions_lookup is not None and llm is None:
        structured = _structured(org_id, question, field_name, hits, document_ids, extractions_lookup)
        if structured is not None:
            structured.sources += [s for s in sources if s not in structured.sources]
            return structured

    if not sources:
        return Answer(answer="No passage in your documents matches this question.", sources=[])

    if llm is not None:
        text = llm.complete(SYSTEM_PROMPT, f"Passages:\n{numbered_context(sources, hits)}\n\nQuestion: {question}")
        kept = cited_sentences(text, len(sources))
        if kept:
            return Answer(answer=" ".join(kept), sources=sources, mode="llm")
        log.warning("LLM answer had no cited sentence; answering extractively", extra={"tenant_id": org_id})

    best = sources[0]
    return Answer(answer=best.quote, sources=sources, mode="extractive")
