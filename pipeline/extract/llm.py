"""The LLM extractor: structured outputs over retrieved passages, every quote verified, the rule result as fallback."""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import openai
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipeline.domain.model import (ASSET_TYPES, EXPENSE_RECOVERY_TYPES, FIELD_NAMES, Citation, ExtractionResult,
                                   FieldStatus, FieldValue, Warning_)
from pipeline.extract import clauses
from pipeline.extract.amendments import AMENDMENT_NULL_FIELDS
from pipeline.extract.doctext import DocText
from pipeline.extract.rules import RuleExtractor
from pipeline.extract.verify import citation_ok
from pipeline.parse.model import ParsedDocument
from pipeline.ports import Embedder

log = logging.getLogger(__name__)

# Fields the model is asked for (escalation stays with the rule engine's rent math).
LLM_FIELDS = tuple(n for n in FIELD_NAMES if n != "escalation")

_VALUE_SCHEMA: dict[str, dict[str, Any]] = {
    "landlord": {"type": ["string", "null"]}, "tenant": {"type": ["string", "null"]},
    "premises_address": {"type": ["string", "null"]}, "suite": {"type": ["string", "null"]},
    "leased_area_sqft": {"type": ["number", "null"]},
    "commencement_date": {"type": ["string", "null"]}, "expiration_date": {"type": ["string", "null"]},
    "term_months": {"type": ["integer", "null"]}, "base_rent_monthly": {"type": ["number", "null"]},
    "currency": {"type": ["string", "null"]}, "security_deposit": {"type": ["number", "null"]},
    "renewal_option": {"type": ["boolean", "null"]}, "renewal_terms": {"type": ["string", "null"]},
    "governing_law": {"type": ["string", "null"]},
    "expense_recovery_type": {"type": ["string", "null"], "enum": list(EXPENSE_RECOVERY_TYPES) + [None]},
    "free_rent_months": {"type": ["number", "null"]},
    "asset_type": {"type": ["string", "null"], "enum": list(ASSET_TYPES) + [None]},
}

# What each field's clause is about: its clause-finder topic and a description the embedder compares chunks with.
FIELD_TOPICS: dict[str, tuple[str, str]] = {
    "landlord": ("parties", "the parties to the lease: the landlord or lessor and the tenant or lessee"),
    "tenant": ("parties", "the parties to the lease: the landlord or lessor and the tenant or lessee"),
    "premises_address": ("premises", "the premises leased: street address, building, suite or floor"),
    "suite": ("premises", "the premises leased: street address, building, suite or floor"),
    "leased_area_sqft": ("premises", "the rentable area of the premises in square feet or square metres"),
    "commencement_date": ("term", "the term of the lease: commencement date, expiration date and length"),
    "expiration_date": ("term", "the term of the lease: commencement date, expiration date and length"),
    "term_months": ("term", "the term of the lease: commencement date, expiration date and length"),
    "base_rent_monthly": ("rent", "the base rent payable each month or year and its schedule of increases"),
    "currency": ("rent", "the base rent payable each month or year and its schedule of increases"),
    "free_rent_months": ("rent", "rent abatement or free rent months at the start of the term"),
    "security_deposit": ("deposit", "the security deposit or letter of credit the tenant provides"),
    "renewal_option": ("renewal", "the tenant's option to renew or extend the term and the renewal rent"),
    "renewal_terms": ("renewal", "the tenant's option to renew or extend the term and the renewal rent"),
    "governing_law": ("law", "the law governing the lease"),
    "expense_recovery_type": ("expenses", "who pays operating expenses, real estate taxes and insurance"),
    "asset_type": ("use", "the permitted use of the premises and the kind of building"),
}

SYSTEM_PROMPT = (
    "You abstract commercial leases. From the numbered passages, return every requested field as an object with "
    "'value' (normalised: ISO dates YYYY-MM-DD, plain numbers, ISO 4217 currency, monthly base rent of the first "
    "rent-paying period before abatement, area in square feet, 0 for a deposit that is expressly none), 'quote' (the "
    "exact words copied character for character from ONE passage that state the value, at most 200 characters) and "
    "'page' (the page number of that passage). Use null for value, quote and page when the passages do not state the "
    "term. Never invent a value or a quote."
)

RETRYABLE = (openai.APIConnectionError, openai.RateLimitError, openai.APITimeoutError, openai.InternalServerError)


@dataclass
class Passage:
    """A chunk of one page offered to the model."""

    page: int
    text: str
    score: float
    order: int
    start: int = 0  # global offset in the document's joined text (DocText)
    topics: frozenset[str] = frozenset()


def response_schema() -> dict[str, Any]:
    """The strict JSON schema the model's answer must follow: {field: {value, quote, page}}."""
    props = {}
    for name in LLM_FIELDS:
        props[name] = {"type": "object", "additionalProperties": False, "required": ["value", "quote", "page"],
                       "properties": {"value": _VALUE_SCHEMA[name], "quote": {"type": ["string", "null"]},
                                      "page": {"type": ["integer", "null"]}}}
    return {"type": "object", "additionalProperties": False, "required": list(LLM_FIELDS), "properties": props}


def _slices(text: str, size: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) slices of about `size` characters, cut at line breaks where there is one."""
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while start < n:
        while start < n and text[start].isspace():
            start += 1
        if start >= n:
            break
        end = min(n, start + size)
        if end < n:
            cut = text.rfind("\n", start + size // 2, end)
            end = cut if cut > start else end
        if text[start:end].strip():
            out.append((start, end))
        start = end
    return out


def _candidates(doc: ParsedDocument, chunk_chars: int) -> list[Passage]:
    """Page chunks (contiguous page text) with their global offsets in the joined text the clause finder reads."""
    out: list[Passage] = []
    base = 0
    for page in doc.pages:
        for s, e in _slices(page.text, chunk_chars):
            out.append(Passage(page.number, page.text[s:e].strip(), 0.0, len(out), base + s))
        base += len(page.text) + 1
    return out


def select_passages(doc: ParsedDocument, budget_tokens: int, chunk_chars: int = 1200,
                    embedder: Embedder | None = None) -> list[Passage]:
    """Chunks chosen by document structure and meaning, within a token budget (about 4 characters a token).

    Each field's topic gets, in turn, its clause found by structure (headings, summary labels: clauses.py) and,
    with an embedder, the chunks nearest in meaning to the field's description; the opening (parties, date)
    comes first. No keyword counting: the same finder the rule engine uses decides.
    """
    cands = _candidates(doc, chunk_chars)
    if not cands:
        return []
    dt = DocText(doc)
    by_topic: dict[str, list[int]] = {}
    for topic in dict.fromkeys(t for t, _q in FIELD_TOPICS.values()):
        found = clauses.clauses(dt, topic)
        overlap = {i: max((min(cl.end, c.start + len(c.text)) - max(cl.start, c.start) for cl in found), default=0)
                   for i, c in enumerate(cands)}
        # the chunk holding most of a clause first (not the one that merely ends with its heading)
        by_topic[topic] = sorted((i for i, n in overlap.items() if n > 0), key=lambda i: (-min(overlap[i], 600), i))
    vectors: list[list[float]] = []
    queries = list(dict.fromkeys(q for _t, q in FIELD_TOPICS.values()))
    if embedder is not None:
        try:
            vectors = embedder.embed(queries + [c.text for c in cands])
        except (OSError, ImportError, RuntimeError) as exc:
            log.warning("embedder unavailable, passages chosen by structure only: %s", exc)
    if vectors:
        qv, cv = vectors[:len(queries)], vectors[len(queries):]
        for (topic, query) in dict.fromkeys(FIELD_TOPICS.values()):
            q = qv[queries.index(query)]
            sims = [sum(a * b for a, b in zip(q, v)) for v in cv]
            for i in sorted(range(len(cands)), key=lambda k: -sims[k])[:3]:
                cands[i].score = max(cands[i].score, sims[i])
                if i not in by_topic[topic]:
                    by_topic[topic].append(i)
    # round-robin over topics so every field's clause gets a passage before any topic gets a second one
    order: list[int] = [0]
    depth = 0
    while any(depth < len(v) for v in by_topic.values()):
        for ranked in by_topic.values():
            if depth < len(ranked) and ranked[depth] not in order:
                order.append(ranked[depth])
        depth += 1
    chosen: list[Passage] = []
    used = 0
    for i in order:
        cost = len(cands[i].text) // 4 + 8
        if used + cost > budget_tokens:
            continue
        cands[i].topics = frozenset(t for t, v in by_topic.items() if i in v)
        chosen.append(cands[i])
        used += cost
    return sorted(chosen, key=lambda c: c.order)


def render_passages(passages: list[Passage]) -> str:
    """Passages each prefixed with its page number, as sent to the model."""
    return "\n\n".join(f"[page {p.page}]\n{p.text}" for p in passages)


def locate_quote(doc: ParsedDocument, page_no: int | None, quote: str | None) -> Citation | None:
    """A verified citation for the quote on its page (exact, then whitespace-insensitive), else None."""
    if not quote or page_no is None or not 1 <= page_no <= len(doc.pages):
        return None
    text = doc.pages[page_no - 1].text
    start = text.find(quote)
    end = start + len(quote)
    if start < 0:
        words = quote.split()
        if not words:
            return None
        m = re.search(r"\s+".join(re.escape(w) for w in words), text)
        if m is None:
            return None
        start, end = m.start(), m.end()
    c = Citation(page=page_no, start=start, end=end, quote=text[start:end])
    return c if citation_ok(doc, c) else None


def normalise_value(name: str, value: Any) -> Any:
    """The model's value coerced to the field's type, or None when it does not fit."""
    if value is None:
        return None
    try:
        if name in ("commencement_date", "expiration_date"):
            return date.fromisoformat(str(value)).isoformat()
        if name == "term_months":
            return int(value)
        if name in ("leased_area_sqft", "base_rent_monthly", "security_deposit", "free_rent_months"):
            return float(value) if not isinstance(value, bool) else None
        if name == "renewal_option":
            return value if isinstance(value, bool) else None
        if name == "currency":
            v = str(value).strip().upper()
            return v if re.fullmatch(r"[A-Z]{3}", v) else None
        if name == "expense_recovery_type":
            return value if value in EXPENSE_RECOVERY_TYPES else None
        if name == "asset_type":
            return value if value in ASSET_TYPES else None
    except (TypeError, ValueError):
        return None
    v = " ".join(str(value).split())
    return v or None


def values_agree(a: Any, b: Any) -> bool:
    """Whether two extracted values say the same thing (numbers within 0.5 %, text ignoring case and punctuation)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= max(0.01, 0.005 * max(abs(a), abs(b)))

    def norm(x: Any) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", str(x).casefold()).split())

    na, nb = norm(a), norm(b)
    return bool(na) and (na == nb or na in nb or nb in na)


class LLMExtractor:
    """Lease terms from an OpenAI-compatible model over retrieved passages, grounded and cross-checked by the rules."""

    name = "llm"

    def __init__(self, client: openai.OpenAI, model: str, fallback: RuleExtractor, timeout_s: float = 60.0,
                 max_retries: int = 3, budget_tokens: int = 6000, backoff_s: float = 1.0,
                 review_threshold: float = 0.6, embedder: Embedder | None = None):
        self.client = client
        self.embedder = embedder
        self.model = model
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.budget_tokens = budget_tokens
        self.backoff_s = backoff_s
        self.review_threshold = review_threshold
        self.version = f"llm-1:{model}"

    def extract(self, doc: ParsedDocument) -> ExtractionResult:
        """Rule extraction first (fallback and cross-check), then the model's cited answer merged field by field."""
        t0 = time.perf_counter()
        base = self.fallback.extract(doc)
        base.extractor, base.extractor_version = self.name, self.version
        if base.kind == "not_a_lease" or not any(p.text.strip() for p in doc.pages):
            return base
        passages = select_passages(doc, self.budget_tokens, embedder=self.embedder)
        try:
            answer, usage = self._ask(passages)
        except (openai.OpenAIError, ValueError) as exc:
            log.warning("LLM extraction failed, using the rule result: %s", exc)
            base.warnings.append(Warning_("llm_unavailable", f"LLM extraction failed ({type(exc).__name__}); "
                                                             "rule-based values returned."))
            base.usage.update({"llm_calls": 0, "llm_error": type(exc).__name__})
            return base
        skip = set(AMENDMENT_NULL_FIELDS) if base.kind == "amendment" else set()
        for name in LLM_FIELDS:
            if name in skip:
                continue  # an amendment does not restate these; the rule result already leaves them empty
            base.fields[name] = self._merge(doc, name, answer.get(name), base.fields.get(name) or FieldValue.missing())
        base.usage.update(usage)
        base.usage["llm_passages"] = len(passages)
        base.usage["seconds"] = round(time.perf_counter() - t0, 4)
        return base

    def _ask(self, passages: list[Passage]) -> tuple[dict[str, Any], dict[str, Any]]:
        """One structured-output completion with retries; (parsed answer, token usage)."""
        messages = [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": "Fields: " + ", ".join(LLM_FIELDS) + "\n\nPassages:\n\n"
                                                + render_passages(passages)}]
        response_format = {"type": "json_schema",
                           "json_schema": {"name": "lease_terms", "strict": True, "schema": response_schema()}}
        calls = 0
        extra: dict[str, Any] = {"temperature": 0}
        retrying = Retrying(stop=stop_after_attempt(self.max_retries + 1),
                            wait=wait_exponential(multiplier=self.backoff_s, max=30 * self.backoff_s),
                            retry=retry_if_exception_type(RETRYABLE), reraise=True)
        for attempt in retrying:
            with attempt:
                calls += 1
                try:
                    completion = self.client.chat.completions.create(
                        model=self.model, messages=messages, response_format=response_format, timeout=self.timeout_s,
                        **extra)
                except openai.BadRequestError as exc:
                    if "temperature" not in str(exc) or not extra:
                        raise
                    # some models accept only their default temperature: ask again without it
                    extra = {}
                    calls += 1
                    completion = self.client.chat.completions.create(
                        model=self.model, messages=messages, response_format=response_format, timeout=self.timeout_s)
        content = completion.choices[0].message.content or ""
        answer = json.loads(content)
        if not isinstance(answer, dict):
            raise ValueError("the model's answer is not a JSON object")
        u = completion.usage
        usage = {"llm_calls": calls, "llm_model": self.model,
                 "llm_prompt_tokens": getattr(u, "prompt_tokens", 0) or 0,
                 "llm_completion_tokens": getattr(u, "completion_tokens", 0) or 0,
                 "llm_total_tokens": getattr(u, "total_tokens", 0) or 0}
        return answer, usage

    def _merge(self, doc: ParsedDocument, name: str, item: Any, rule: FieldValue) -> FieldValue:
        """The model's value when its quote verifies; agreement with the rules raises confidence, conflict asks review."""
        if not isinstance(item, dict):
            return rule
        value = normalise_value(name, item.get("value"))
        if value is None:
            return rule
        quote = item.get("quote")
        cite = locate_quote(doc, item.get("page"), quote if isinstance(quote, str) else None)
        if cite is None:
            if rule.status != FieldStatus.NOT_FOUND:
                return rule  # the model's quote is not on its page: keep the grounded rule value
            return FieldValue(value=value, raw=str(quote)[:300] if quote else None, confidence=0.2,
                              status=FieldStatus.NEEDS_REVIEW, citations=[])
        if rule.status != FieldStatus.NOT_FOUND and rule.value is not None:
            if values_agree(value, rule.value):
                return FieldValue(value=value, raw=cite.quote, confidence=min(0.98, max(rule.confidence, 0.8) + 0.1),
                                  status=FieldStatus.FOUND, citations=[cite])
            return FieldValue(value=value, raw=cite.quote, confidence=0.45, status=FieldStatus.NEEDS_REVIEW,
                              citations=[cite] + [c for c in rule.citations if c != cite][:1])
        status = FieldStatus.FOUND if 0.7 >= self.review_threshold else FieldStatus.NEEDS_REVIEW
        return FieldValue(value=value, raw=cite.quote, confidence=0.7, status=status, citations=[cite])


def build_llm_extractor(settings: Any, fallback: RuleExtractor) -> LLMExtractor:
    """An LLMExtractor with an OpenAI client from settings (key, base URL, model, timeout); retries are ours."""
    client = openai.OpenAI(api_key=settings.openai_api_key or "missing-key", base_url=settings.openai_base_url,
                           timeout=settings.llm_timeout_s, max_retries=0)
    return LLMExtractor(client, settings.openai_model, fallback, timeout_s=settings.llm_timeout_s,
                        review_threshold=getattr(settings, "review_threshold", 0.6), embedder=_shipped_embedder())


def _shipped_embedder() -> Embedder | None:
    """The shipped MiniLM embedder (loaded on first use), or None when its package is not installed."""
    try:
        from pipeline.adapters.minilm_embedder import MiniLMEmbedder, default_model_path

        default_model_path()
    except ImportError as exc:
        log.info("MiniLM model package not installed; LLM passages chosen by structure only (%s)", exc)
        return None
    return MiniLMEmbedder(threads=2)
