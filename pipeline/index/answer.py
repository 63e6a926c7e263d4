"""Answers from passages: sentence reranking, answerability, field answers, cited LLM synthesis checks."""
from __future__ import annotations

import math
import re
import threading
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from pipeline.index.retrieve import tokens
from pipeline.index.sentences import Sentence, clean, is_heading, split_sentences
from pipeline.ports import Hit

_CITE = re.compile(r"\[(\d+)\]")
_CLAUSE = re.compile(r"\(?\d{1,3}(?:\.\d{1,3})*[.)]\s|\([a-z]{1,4}\)\s")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
REFUSAL = "The documents don't state this."
NO_PASSAGE = "No passage in your documents matches this question."  # nothing indexed matched at all


@dataclass
class Source:
    """Where an answer comes from: a document page and the exact quoted span."""

    document_id: str
    filename: str
    page: int
    quote: str
    score: float
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"document_id": self.document_id, "filename": self.filename, "page": self.page,
                "quote": self.quote, "score": round(float(self.score), 4), "start": self.start, "end": self.end}


@dataclass
class Answer:
    """An answer with its sources; mode says how it was produced (extractive | llm | structured | portfolio)."""

    answer: str
    sources: list[Source] = field(default_factory=list)
    mode: str = "extractive"
    question_kind: str = "other"
    refused: bool = False
    documents: list[str] | None = None  # portfolio: the matching leases
    checked: int | None = None
    undecided: list[dict[str, str]] | None = None
    answerability: float | None = None  # passage answers: how well the best sentence answers the question

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        out: dict[str, Any] = {"answer": self.answer, "mode": self.mode, "question_kind": self.question_kind,
                               "refused": self.refused, "sources": [s.to_dict() for s in self.sources]}
        if self.answerability is not None:
            out["answerability"] = round(self.answerability, 3)
        if self.documents is not None:
            out.update(leases=self.documents, checked=self.checked, undecided=self.undecided or [])
        return out


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored for the question."""

    hit: Hit
    start: int  # offsets into the page
    end: int
    text: str   # what a reader sees
    lexical: float = 0.0
    similarity: float = 0.0
    coverage: float = 0.0

    @property
    def score(self) -> float:
        """Rerank score: the embedder's similarity plus in-passage BM25 (normalised)."""
        return self.similarity + 0.25 * self.lexical

    def source(self) -> Source:
        """This sentence as a cited source (quote = exact page text)."""
        c = self.hit.chunk
        return Source(document_id=c.document_id, filename=str(c.metadata.get("filename", "")), page=c.page,
                      quote=c.text[self.start - c.start:self.end - c.start], score=self.hit.score,
                      start=self.start, end=self.end)


def _stem(word: str) -> str:
    return word[:6] if len(word) > 6 else word.rstrip("s")


_LIST_CHARS = 600


def _with_lists(text: str, sentences: Sequence[Sentence], *, max_items: int = 3) -> list[Sentence]:
    """Sentences, where one that introduces a list or table ("…shall be as follows:") takes in up to max_items
    following pieces (bounded in size, stopping at a numbered clause): the values it announces are its answer."""
    out: list[Sentence] = []
    i = 0
    while i < len(sentences):
        s, j = sentences[i], i
        if text[s.start:s.end].rstrip().endswith(":"):
            while (j + 1 < len(sentences) and j - i < max_items and sentences[j + 1].end - s.start <= _LIST_CHARS
                   and not _CLAUSE.match(text[sentences[j + 1].start:])):
                j += 1
        out.append(Sentence(s.start, sentences[j].end))
        i = j + 1
    return out


def candidates(hits: Sequence[Hit], *, max_per_hit: int = 40) -> list[Candidate]:
    """Every sentence of the hits (page offsets, clean text), passages in rank order."""
    out, seen = [], set()
    for hit in hits:
        c = hit.chunk
        for i, s in enumerate(_with_lists(c.text, split_sentences(c.text)[:max_per_hit])):
            key = (c.document_id, c.page, c.start + s.start)
            text = clean(c.text[s.start:s.end])
            if key in seen or text in seen or len(tokens(text)) < 3 or is_heading(text):
                continue
            if i == 0 and c.start > 0 and text[:1].islower():
                continue  # the tail of a sentence cut by the chunk's overlap; the previous chunk holds it whole
            seen.update((key, text))
            out.append(Candidate(hit=hit, start=c.start + s.start, end=c.start + s.end, text=text))
    return out


def lexical_scores(question_terms: Sequence[str], sentences: Sequence[str]) -> list[float]:
    """BM25 of each sentence for the question terms, IDF over the candidate sentences, scaled to [0, 1]."""
    docs = [[_stem(t) for t in tokens(s)] for s in sentences]
    q = {_stem(t) for t in question_terms}
    if not docs or not q:
        return [0.0] * len(sentences)
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    avg = sum(len(d) for d in docs) / n
    scores = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for t in q:
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(d) / max(avg, 1e-9)))
        scores.append(s)
    top = max(scores) or 1.0
    return [s / top for s in scores]


def coverage(question_terms: Sequence[str], text: str) -> float:
    """Share of the question's content words (stemmed) that the text contains."""
    q = {_stem(t) for t in question_terms if not t.isdigit()}
    if not q:
        return 0.0
    have = {_stem(t) for t in tokens(text)}
    return len(q & have) / len(q)


_VECTOR_CACHES: "weakref.WeakKeyDictionary[Any, OrderedDict[str, np.ndarray]]" = weakref.WeakKeyDictionary()
_VECTOR_CACHE_SIZE = 20_000
_PAIR = 2
_cache_lock = threading.Lock()


def _sentence_vectors(embedder: Any, texts: Sequence[str]) -> np.ndarray:
    """Unit vectors of sentences; sentences this embedder saw recently are not embedded again."""
    with _cache_lock:
        cache = _VECTOR_CACHES.setdefault(embedder, OrderedDict())
        known = {t: cache.get(t) for t in texts}
    missing = [t for t, v in known.items() if v is None]
    if missing:
        # Pairs, not one batch: the embedder encodes up to two texts on one thread, and on 2 shared cores that
        # is ~6x faster than its multi-threaded batch path under load (8 sentences: ~75 ms vs ~500 ms at load 3.5).
        fresh = np.asarray([v for i in range(0, len(missing), _PAIR) for v in embedder.embed(missing[i:i + _PAIR])],
                           dtype=np.float32)
        fresh /= np.maximum(np.linalg.norm(fresh, axis=1, keepdims=True), 1e-9)
        with _cache_lock:
            for t, v in zip(missing, fresh):
                known[t] = v
                cache[t] = v
            while len(cache) > _VECTOR_CACHE_SIZE:
                cache.popitem(last=False)
    return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def rerank(question_terms: Sequence[str], question_vector: Sequence[float] | None, cands: Sequence[Candidate],
           embedder: Any, *, shortlist: int = 10) -> list[Candidate]:
    """Best sentences first: BM25 within the passages picks a shortlist, the embedder's similarity orders it."""
    if not cands:
        return []
    lex = lexical_scores(question_terms, [c.text for c in cands])
    # A passage-rank prior keeps sentences of the best passages in the shortlist when words do not match.
    rank: dict[str, int] = {}
    for c in cands:
        rank.setdefault(c.hit.chunk.id, len(rank))
    prelim = sorted(range(len(cands)), key=lambda i: -(lex[i] + 0.3 / (1 + rank[cands[i].hit.chunk.id])))[:shortlist]
    if embedder is None or question_vector is None:
        sims = np.asarray([lex[i] for i in prelim])  # no embedder (a bare retriever): BM25 stands in for meaning
    else:
        vecs = _sentence_vectors(embedder, [cands[i].text for i in prelim])
        q = np.asarray(question_vector, dtype=np.float32)
        q /= max(float(np.linalg.norm(q)), 1e-9)
        sims = vecs @ q
    out = []
    for j, i in enumerate(prelim):
        c = cands[i]
        section = str(c.hit.chunk.section or "")
        out.append(Candidate(hit=c.hit, start=c.start, end=c.end, text=c.text, lexical=lex[i],
                             similarity=float(sims[j]), coverage=coverage(question_terms, c.text + " " + section)))
    out.sort(key=lambda c: -c.score)
    return out


def answerability(best: Candidate) -> float:
    """How well the best sentence answers the question: similarity and coverage of the question's words."""
    return 0.6 * best.similarity + 0.4 * best.coverage


def pick_sentences(ranked: Sequence[Candidate], *, max_sentences: int = 2, tie: float = 0.08) -> list[Candidate]:
    """The best sentence, and the next one when it scores close and comes from the same passage."""
    if not ranked:
        return []
    best = ranked[0]
    out = [best]
    for c in ranked[1:]:
        if len(out) >= max_sentences:
            break
        if (c.hit.chunk.document_id == best.hit.chunk.document_id and best.score - c.score <= tie
                and c.text != best.text and not (c.start < best.end and best.start < c.end)):
            out.append(c)
    return sorted(out, key=lambda c: (c.hit.chunk.document_id, c.start))


def source_for(question: str, hit: Hit) -> Source:
    """The hit as a cited source whose quote is its sentence sharing most words with the question."""
    q = set(tokens(question))
    c = hit.chunk
    best, best_score = None, -1.0
    for s in split_sentences(c.text):
        words = tokens(c.text[s.start:s.end])
        if not words:
            continue
        score = len(q.intersection(words)) + 0.1 * min(len(words), 30) / 30
        if score > best_score:
            best, best_score = s, score
    start, end = (best.start, best.end) if best is not None else (0, len(c.text))
    return Source(document_id=c.document_id, filename=str(c.metadata.get("filename", "")), page=c.page,
                  quote=c.text[start:end], score=hit.score, start=c.start + start, end=c.start + end)


def numbered_context(sources: Sequence[Source], hits: Sequence[Hit]) -> str:
    """Passages numbered [1]..[n] for an LLM prompt."""
    return "\n\n".join(f"[{i}] {s.filename or s.document_id}, page {s.page}:\n{h.chunk.text}"
                       for i, (s, h) in enumerate(zip(sources, hits), start=1))


def cited_sentences(text: str, n_sources: int) -> list[str]:
    """Sentences of an LLM answer that cite a valid source [1..n]; uncited ones are dropped."""
    kept = []
    for sent in re.split(r"(?<=[.!?])\s+", text.strip()):
        cites = [int(c) for c in _CITE.findall(sent)]
        if sent and cites and all(1 <= c <= n_sources for c in cites):
            kept.append(sent)
    return kept


def supported(sentence: str, passages: Sequence[str]) -> bool:
    """Whether an LLM sentence is backed by the passages it cites: every number it states appears in them,
    and most of its content words do."""
    body = _CITE.sub("", sentence)
    text = " ".join(passages)
    digits = {n.replace(",", "") for n in _NUMBER.findall(text)}
    if any(n.replace(",", "").rstrip(".") not in digits for n in _NUMBER.findall(body)):
        return False
    words = [t for t in tokens(body) if not t[0].isdigit()]
    return not words or coverage(words, text) >= 0.6


def verified_sentences(text: str, passages: Sequence[str]) -> list[str]:
    """Cited LLM sentences whose citations check out against the cited page text."""
    kept = []
    for sent in cited_sentences(text, len(passages)):
        cites = sorted({int(c) for c in _CITE.findall(sent)})
        if supported(sent, [passages[c - 1] for c in cites]):
            kept.append(sent)
    return kept
