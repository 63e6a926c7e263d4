"""Ask: answer a question over one organisation's leases, citing document, page and quote.

Route by meaning: a field lookup is answered from the lease's extraction (only when the question asks for that
field and the cited words hold the value), a portfolio question is a filter over the latest extractions, and
anything else is answered with the best one or two whole sentences of the retrieved passages — or declined
when no sentence answers it well enough.
"""
from __future__ import annotations

import logging
import re
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from pipeline.domain.model import ExtractionResult, FieldStatus, FieldValue
from pipeline.index.answer import (NO_PASSAGE, REFUSAL, Answer, Candidate, Source, answerability, candidates,
                                   numbered_context, pick_sentences, rerank, source_for, verified_sentences)
from pipeline.index.conditions import Condition, flag_condition, parse_conditions
from pipeline.index.retrieve import tokens
from pipeline.index.sentences import clean
from pipeline.index.understand import (QuestionClassifier, Understanding, identity_words, is_portfolio,
                                       resolve_document)
from pipeline.ports import Embedder, Hit

log = logging.getLogger(__name__)

ExtractionsLookup = Callable[[str, Sequence[str] | None], list[tuple[str, str, ExtractionResult]]]

SYSTEM_PROMPT = (
    "You answer questions about commercial leases using only the numbered passages given. "
    "Every sentence of your answer must end with the number of the passage it relies on, like [1] or [2], "
    "and state only numbers, dates and names that the cited passage contains. "
    "If the passages do not answer the question, answer exactly: The documents don't state this.")

# Words that carry no meaning about what is asked (beyond the retriever's stopwords).
_QUESTION_WORDS = frozenset(
    "much many can could may must does did get gets give gives owe owes pay pays come comes has have our "
    "we you us my me whom whose how why".split())

# The kind of value a field answer must contain; a passage answering a field question without one is declined.
VALUE_PATTERNS: dict[str, re.Pattern[str]] = {
    "security_deposit": re.compile(r"[$£€]\s*\d|\bdollars\b|\bno\s+(?:security\s+)?deposit|\bdeposit\s+of\s+\$?0\b",
                                   re.I),
    "base_rent_monthly": re.compile(r"[$£€]\s*\d|\bdollars\b|\bpounds\b|\bPS\s*\d", re.I),
    "leased_area_sqft": re.compile(r"\d[\d,.]*\s+(?:rentable\s+|usable\s+|gross\s+)?(?:square\s+(?:feet|foot|met)|"
                                   r"sq\.?\s*(?:ft|m))", re.I),
    "governing_law": re.compile(r"\blaws?\s+of\b|\bgoverned\s+by\b[^.]{0,40}\blaws?\b", re.I),
    "commencement_date": re.compile(r"\b(?:19|20)\d\d\b"),
    "expiration_date": re.compile(r"\b(?:19|20)\d\d\b"),
    "term_months": re.compile(r"\b(?:years?|months?)\b", re.I),
    "free_rent_months": re.compile(r"\b(?:free|abate\w*|abatement)\b", re.I),
    "renewal_terms": re.compile(r"\b(?:renew\w*|extend\w*|extension)\b", re.I),
}
FIELD_LABELS = {"base_rent_monthly": "Monthly base rent", "leased_area_sqft": "Leased area (sq ft)",
                "term_months": "Term (months)", "free_rent_months": "Free rent (months)"}


class PassageRetriever(Protocol):
    """Top passages of one organisation (pipeline.index.retrieve.Retriever satisfies it)."""

    def retrieve(self, org_id: str, question: str, *, top_k: int = 5, document_ids: Sequence[str] | None = None,
                 vector: Sequence[float] | None = None) -> list[Hit]: ...


class ChatLLM(Protocol):
    """One chat completion: system + user message in, text out."""

    def complete(self, system: str, user: str) -> str: ...


@dataclass
class AskConfig:
    """Answer knobs: passages reranked, the answerability threshold, LLM context.

    The threshold is calibrated on eval/qa/dev.jsonl: the smallest round value above every unanswerable dev
    question's score (max 0.47) and below the answerable ones (min 0.62)."""

    passages: int = 8
    answer_threshold: float = 0.5
    llm_passages: int = 5


_CLASSIFIERS: "weakref.WeakKeyDictionary[Any, QuestionClassifier]" = weakref.WeakKeyDictionary()


def classifier_for(embedder: Embedder) -> QuestionClassifier:
    """One classifier per embedder (its description vectors are computed once)."""
    found = _CLASSIFIERS.get(embedder)
    if found is None:
        found = _CLASSIFIERS[embedder] = QuestionClassifier(embedder)
    return found


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) or isinstance(value, int):
        return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"
    return str(value)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def _value_in_quote(fv: FieldValue, quote: str) -> bool:
    """Whether the cited words hold the value (its raw words, or its digits for numbers)."""
    q = " ".join(quote.split()).lower()
    if fv.raw and " ".join(str(fv.raw).split()).lower() in q:
        return True
    if isinstance(fv.value, (int, float)) and not isinstance(fv.value, bool):
        whole = _digits(f"{float(fv.value):.2f}").rstrip("0")
        return bool(whole) and whole.rstrip("0") in _digits(q) or _digits(f"{int(fv.value)}") in _digits(q)
    return str(fv.value).lower() in q


def _field_answer(field_name: str, doc_id: str, filename: str, result: ExtractionResult) -> Answer | None:
    """A field lookup answered from the extraction, when the field was found and its citation holds it."""
    names = [field_name] + (["renewal_option"] if field_name == "renewal_terms" else [])
    for name in names:
        fv = result.field(name)
        if fv.status == FieldStatus.NOT_FOUND or fv.value is None or not fv.citations:
            continue
        cite = fv.citations[0]
        if not _value_in_quote(fv, cite.quote):
            continue
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        note = " (needs review: extracted with low confidence)" if fv.status == FieldStatus.NEEDS_REVIEW else ""
        text = f"{label}: {_fmt(fv.value)}{note}. “{clean(cite.quote)}” ({filename}, p. {cite.page})"
        return Answer(answer=text, mode="structured", question_kind="field", sources=[
            Source(document_id=doc_id, filename=filename, page=cite.page, quote=cite.quote,
                   score=float(fv.confidence), start=cite.start, end=cite.end)])
    return None


def _portfolio_answer(conditions: Sequence[Condition], rows: Sequence[tuple[str, str, ExtractionResult]]) -> Answer:
    """The leases meeting every condition, each cited; how many were checked and which could not be decided."""
    leases = [r for r in rows if r[2].kind != "not_a_lease"]
    matched: list[tuple[str, str, ExtractionResult]] = []
    undecided: list[dict[str, str]] = []
    for doc_id, filename, result in leases:
        verdicts = [c.test(result) for c in conditions]
        if all(v is True for v in verdicts):
            matched.append((doc_id, filename, result))
        elif not any(v is False for v in verdicts):
            missing = [c.label for c, v in zip(conditions, verdicts) if v is None]
            undecided.append({"document_id": doc_id, "filename": filename,
                              "reason": "field missing or needs review: " + "; ".join(missing)})
    want = " and ".join(c.label for c in conditions)
    sources, parts = [], []
    for doc_id, filename, result in matched:
        cites = [c for cond in conditions for name in cond.fields for c in result.field(name).citations[:1]]
        cites += [c for cond in conditions if not cond.fields for f in result.risk_flags
                  if cond.label == f"a {f.type.replace('_', ' ')} clause" for c in f.citations[:1]]
        values = [f"{name.replace('_', ' ')} {_fmt(result.field(name).value)}"
                  for cond in conditions for name in cond.fields]
        parts.append(f"{filename}" + (f" ({'; '.join(values)})" if values else ""))
        for c in cites[:2]:
            sources.append(Source(document_id=doc_id, filename=filename, page=c.page, quote=c.quote, score=1.0,
                                  start=c.start, end=c.end))
    text = (f"{len(matched)} of {len(leases)} leases checked have {want}"
            + (": " + "; ".join(parts) + "." if parts else "."))
    if undecided:
        text += f" Could not decide {len(undecided)}: " + ", ".join(u["filename"] for u in undecided) + "."
    return Answer(answer=text, sources=sources, mode="portfolio", question_kind="portfolio",
                  documents=[m[0] for m in matched], checked=len(leases), undecided=undecided)


def _without(question: str, words: set[str]) -> str:
    """The question with the given (lease-naming) words taken out."""
    if not words:
        return question
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b"
                         r"(?:['’]s)?", re.IGNORECASE)
    return " ".join(pattern.sub(" ", question).split())


def _focus_terms(question: str, naming: set[str]) -> list[str]:
    """The question's content words, without the words that only name the lease."""
    return [t for t in tokens(question) if t not in naming and t not in _QUESTION_WORDS]


def _distinct_hits(ranked: Sequence[Candidate]) -> list[Hit]:
    """The passages of the ranked sentences, best first, each once."""
    seen: dict[str, Hit] = {}
    for c in ranked:
        seen.setdefault(c.hit.chunk.id, c.hit)
    return list(seen.values())


def _refusal(kind: str, ranked: Sequence[Candidate], hits: Sequence[Hit], question: str,
             score: float | None = None) -> Answer:
    """Decline, showing the closest related passages."""
    related = [c.source() for c in ranked[:3]] or [source_for(question, h) for h in hits[:3]]
    return Answer(answer=REFUSAL, sources=related, mode="extractive", question_kind=kind, refused=True,
                  answerability=score)


def ask(org_id: str, question: str, *, document_ids: Sequence[str] | None = None, top_k: int = 5,
        retriever: PassageRetriever, extractions_lookup: ExtractionsLookup | None = None,
        llm: ChatLLM | None = None, config: AskConfig | None = None) -> Answer:
    """Answer from the organisation's own documents only: field, portfolio filter, extractive or LLM."""
    if not org_id:
        raise ValueError("org_id is required")
    config = config or AskConfig()
    question = question.strip()
    if not question:
        return Answer(answer="", sources=[], mode="extractive")
    embedder: Embedder | None = getattr(retriever, "embedder", None)
    rows = extractions_lookup(org_id, document_ids) if extractions_lookup is not None else []
    if document_ids is not None and len(document_ids) == 1:
        target, naming = document_ids[0], set()
    else:
        target, naming = resolve_document(question, [(d, identity_words(f, r.field("tenant").value,
                                                                        r.field("landlord").value,
                                                                        r.field("premises_address").value))
                                                     for d, f, r in rows])
    # What is asked, without the words that name the lease: classification and sentence similarity use it.
    focus = _without(question, naming)
    vector = focus_vector = None
    if embedder is not None:
        vecs = embedder.embed([question] if focus == question else [question, focus])
        vector, focus_vector = vecs[0], vecs[-1]
    classifier = classifier_for(embedder) if embedder is not None else None
    if classifier is not None:
        understood = classifier.classify(focus, focus_vector, names_a_lease=target is not None)
    else:
        understood = Understanding("portfolio" if is_portfolio(question) and target is None else "clause")

    if understood.kind == "portfolio" and rows and not (document_ids and len(document_ids) == 1):
        conditions = parse_conditions(question)
        if not conditions and classifier is not None:
            # No condition on a field: a clause being present (a risk flag), recognised by meaning.
            flag = classifier.flag(question, vector)
            if flag is not None:
                conditions.append(flag_condition(flag))
        if conditions:
            return _portfolio_answer(conditions, rows)

    search_ids = [target] if target is not None else document_ids
    extra = {"vector": vector} if vector is not None else {}  # a retriever without an embedder takes none
    hits = retriever.retrieve(org_id, question, top_k=max(top_k, config.passages), document_ids=search_ids,
                              **extra)
    kind = understood.kind if understood.kind != "portfolio" else "clause"

    if understood.kind == "field" and understood.field and rows:
        doc = target or (hits[0].chunk.document_id if hits else None)
        row = next((r for r in rows if r[0] == doc), None)
        if row is not None:
            structured = _field_answer(understood.field, *row)
            if structured is not None:
                structured.sources += [source_for(question, h) for h in hits[:top_k]]
                return structured

    if not hits:
        return Answer(answer=NO_PASSAGE, sources=[], question_kind=kind, refused=True)
    terms = _focus_terms(question, naming)
    cands = candidates(hits[:config.passages])
    ranked = rerank(terms, focus_vector, cands, embedder)
    score = answerability(ranked[0]) if ranked else 0.0
    if score < config.answer_threshold:
        return _refusal(kind, ranked, hits, question, score)
    pattern = VALUE_PATTERNS.get(understood.field or "") if understood.kind == "field" else None
    if pattern is not None:
        # A field the extraction did not find: answer only with a sentence that states that kind of value.
        ranked = [c for c in ranked if pattern.search(c.text) and answerability(c) >= config.answer_threshold]
        if not ranked:
            return _refusal(kind, [], hits, question, score)
    chosen = pick_sentences(ranked)
    sources = [c.source() for c in chosen]
    others = [s for s in (c.source() for c in ranked[len(chosen):]) if s not in sources]
    sources += others[:max(0, top_k - len(sources))]

    if llm is not None:
        passage_hits = _distinct_hits(ranked)[:config.llm_passages]
        passage_sources = [source_for(question, h) for h in passage_hits]
        text = llm.complete(SYSTEM_PROMPT, f"Passages:\n{numbered_context(passage_sources, passage_hits)}\n\n"
                                           f"Question: {question}")
        if text.strip().lower().startswith(REFUSAL.lower().rstrip(".")):
            return _refusal(kind, ranked, hits, question, score)
        kept = verified_sentences(text, [h.chunk.text for h in passage_hits])
        if kept:
            return Answer(answer=" ".join(kept), sources=passage_sources, mode="llm", question_kind=kind,
                          answerability=score)
        log.warning("LLM answer had no verified cited sentence; answering extractively", extra={"tenant_id": org_id})

    return Answer(answer=" ".join(c.text for c in chosen), sources=sources, mode="extractive", question_kind=kind,
                  answerability=score)
