"""Answers from passages: the best sentence of each passage, field questions, cited LLM synthesis checks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from pipeline.index.retrieve import tokens
from pipeline.ports import Hit

_SENTENCE = re.compile(r"[^.;!?\n]+(?:[.;!?]+|$)|[^\n]+", re.MULTILINE)
_CITE = re.compile(r"\[(\d+)\]")

# Words that make a question about one extracted field (checked in order: most specific first).
FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("security_deposit", ("deposit",)),
    ("expiration_date", ("expire", "expires", "expiry", "expiration", "expiring", "end date", "ends")),
    ("commencement_date", ("commence", "commences", "commencement", "start date", "starts")),
    ("base_rent_monthly", ("base rent", "monthly rent", "rent")),
    ("governing_law", ("governing law", "governed", "jurisdiction")),
    ("renewal_terms", ("renewal", "renew", "extension option")),
    ("leased_area_sqft", ("square feet", "sq ft", "sqft", "area", "size")),
    ("premises_address", ("address", "located")),
    ("term_months", ("term", "how long")),
    ("tenant", ("tenant",)),
    ("landlord", ("landlord", "lessor", "owner")),
)
_PORTFOLIO_WORDS = re.compile(r"\b(which|any|all|every|leases|portfolio|list)\b", re.IGNORECASE)


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
    """An answer with its sources; mode says how it was produced (extractive | llm)."""

    answer: str
    sources: list[Source] = field(default_factory=list)
    mode: str = "extractive"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return {"answer": self.answer, "mode": self.mode, "sources": [s.to_dict() for s in self.sources]}


def best_sentence(question: str, hit: Hit) -> tuple[int, int, float]:
    """Page offsets (start, end) of the chunk sentence that shares most words with the question, and that overlap."""
    q = set(tokens(question))
    text = hit.chunk.text
    best = (0, len(text), -1.0)
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s < 3:
            continue
        words = tokens(text[s:e])
        if not words:
            continue
        overlap = len(q.intersection(words)) + 0.1 * min(len(words), 30) / 30
        if overlap > best[2]:
            best = (s, e, overlap)
    return hit.chunk.start + best[0], hit.chunk.start + best[1], best[2]


def source_for(question: str, hit: Hit) -> Source:
    """The hit as a cited source whose quote is its best sentence (exact page text)."""
    start, end, _ = best_sentence(question, hit)
    rel_s, rel_e = start - hit.chunk.start, end - hit.chunk.start
    return Source(document_id=hit.chunk.document_id, filename=str(hit.chunk.metadata.get("filename", "")),
                  page=hit.chunk.page, quote=hit.chunk.text[rel_s:rel_e], score=hit.score, start=start, end=end)


def field_of(question: str) -> str | None:
    """The extracted field a question asks about, if it asks about one."""
    q = " " + " ".join(re.findall(r"[a-z]+", question.lower())) + " "
    for name, words in FIELD_WORDS:
        if any(f" {w} " in q for w in words):
            return name
    return None


def is_portfolio_question(question: str) -> bool:
    """Whether a question ranges over many leases ("which leases…", "any lease…")."""
    return bool(_PORTFOLIO_WORDS.search(question))


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
