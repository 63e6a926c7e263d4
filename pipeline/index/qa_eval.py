"""Q&A evaluation: index a document corpus, ask the eval questions, score recall, correctness and refusals."""
from __future__ import annotations

import hashlib
import inspect
import json
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from pipeline.domain.model import Document, DocumentStatus, Extraction, ExtractionResult
from pipeline.parse.model import ParsedDocument

ORG = "org-qa-eval"
KINDS = ("field", "clause", "portfolio", "unanswerable")
_REFUSAL_PREFIXES = ("the documents don't state", "no passage in your documents")


@dataclass
class CorpusDocument:
    """One evaluated document: id (file prefix), file name, parsed pages and its extraction."""

    id: str
    filename: str
    parsed: ParsedDocument
    result: ExtractionResult


@dataclass
class QuestionResult:
    """How one question was answered and scored."""

    id: str
    kind: str
    split: str
    question: str
    answer: str
    refused: bool
    recall_hit: bool | None = None
    correct: bool | None = None
    f1: float | None = None
    predicted_documents: list[str] = field(default_factory=list)
    answerability: float | None = None
    question_kind: str | None = None
    ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)


def load_questions(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Questions from JSONL files; each gets its file's stem as its split (dev, heldout)."""
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                q.setdefault("split", path.stem)
                out.append(q)
    return out


def load_corpus(shared: Path, corpus_file: Path, extract: Callable[[ParsedDocument], ExtractionResult],
                parse: Callable[[bytes], ParsedDocument]) -> list[CorpusDocument]:
    """Parse and extract every document listed in corpus.json (paths relative to the shared folder)."""
    docs = []
    for rel in json.loads(corpus_file.read_text())["documents"]:
        path = shared / rel
        parsed = parse(path.read_bytes())
        docs.append(CorpusDocument(id=path.name[:3], filename=path.name, parsed=parsed, result=extract(parsed)))
    return docs


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def corpus_key(docs: Sequence[CorpusDocument]) -> str:
    """A digest of what the index depends on: page texts, extractions' context fields and the chunker."""
    from pipeline.index import chunk
    from pipeline.usecases import index

    h = hashlib.sha256(inspect.getsource(chunk).encode())
    h.update(inspect.getsource(index).encode())
    for d in docs:
        h.update(d.id.encode())
        for p in d.parsed.pages:
            h.update(p.text.encode())
        for name in ("tenant", "landlord", "premises_address"):
            h.update(str(d.result.field(name).value).encode())
    return h.hexdigest()[:16]


class _MemoryUow:
    """The slice of a unit of work the indexer reads: the latest extraction of a document."""

    def __init__(self, extractions: dict[str, Extraction]) -> None:
        self._extractions = extractions

    def __enter__(self) -> "_MemoryUow":
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    @property
    def extractions(self) -> "_MemoryUow":
        return self

    def latest(self, org_id: str, document_id: str) -> Extraction | None:
        return self._extractions.get(document_id)


def build_index(root: Path, docs: Sequence[CorpusDocument], embedder: Any) -> None:
    """Index the corpus into a fresh generation under root, as the index job would (same chunking, context)."""
    from pipeline.adapters.chroma_index import ChromaIndexWriter
    from pipeline.usecases.index import reindex_all

    by_id = {d.id: d for d in docs}
    documents = [Document(id=d.id, org_id=ORG, filename=d.filename, content_hash=d.id, size_bytes=0,
                          media_type="", blob_key="", status=DocumentStatus.READY) for d in docs]
    extractions = {d.id: Extraction(id=f"x-{d.id}", document_id=d.id, org_id=ORG, version=1, result=d.result,
                                    extractor_version=d.result.extractor_version, content_hash=d.id) for d in docs}
    reindex_all(documents, uow_factory=lambda: _MemoryUow(extractions),
                load_parsed=lambda doc: by_id[doc.id].parsed, embedder=embedder,
                index_writer=ChromaIndexWriter(root))


@contextmanager
def index_for(docs: Sequence[CorpusDocument], embedder: Any, cache: Path) -> Iterator[Path]:
    """An index of the corpus, reused from cache when its inputs have not changed."""
    root = cache / f"index-{corpus_key(docs)}"
    if not (root / "CURRENT").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        build_index(root, docs, embedder)
    yield root


def is_refusal(answer: Any) -> bool:
    """Whether an answer declines (the documents don't state it)."""
    refused = getattr(answer, "refused", None)
    if refused is not None:
        return bool(refused)
    return answer.answer.strip().lower().startswith(_REFUSAL_PREFIXES)


def predicted_documents(answer: Any) -> list[str]:
    """Leases an answer names: its matches when it has them, else its sources' documents in order."""
    matches = getattr(answer, "documents", None)
    if matches is not None:
        return list(matches)
    seen: list[str] = []
    for s in answer.sources:
        if s.document_id not in seen:
            seen.append(s.document_id)
    return seen


def set_f1(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """F1 of two document sets (1.0 when both are empty)."""
    p, e = set(predicted), set(expected)
    if not p and not e:
        return 1.0
    tp = len(p & e)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(p), tp / len(e)
    return 2 * precision * recall / (precision + recall)


def score_question(q: dict[str, Any], answer: Any, hits: Sequence[Any], ms: float) -> QuestionResult:
    """Score one answer against its gold question."""
    refused = is_refusal(answer)
    r = QuestionResult(id=q["id"], kind=q["kind"], split=q.get("split", ""), question=q["question"],
                       answer=answer.answer, refused=refused, ms=round(ms, 1),
                       answerability=getattr(answer, "answerability", None),
                       question_kind=getattr(answer, "question_kind", None))
    if q.get("quote"):
        gold = _norm(q["quote"])
        r.recall_hit = any(h.chunk.document_id == q["document"] and gold in _norm(h.chunk.text) for h in hits[:5])
    if q["kind"] in ("field", "clause"):
        text = answer.answer
        matched = all(re.search(p, text, re.IGNORECASE) for p in q["answer"])
        cited = any(s.document_id == q["document"] for s in answer.sources)
        r.correct = bool(matched and cited and not refused)
    elif q["kind"] == "portfolio":
        r.predicted_documents = predicted_documents(answer)
        r.f1 = round(set_f1(r.predicted_documents, q["expected_documents"]), 3)
        r.correct = r.f1 >= 0.999
    elif q["kind"] == "unanswerable":
        r.correct = refused
    return r


def summarise(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Figures over a set of results: recall@5, correctness per kind, refusal accuracy, false refusals, p95."""
    def mean(xs: list[float]) -> float | None:
        return round(float(np.mean(xs)), 3) if xs else None

    out: dict[str, Any] = {"questions": len(results)}
    recall = [float(r.recall_hit) for r in results if r.recall_hit is not None]
    out["passage_recall@5"] = mean(recall)
    for kind in ("field", "clause"):
        out[f"correct_{kind}"] = mean([float(bool(r.correct)) for r in results if r.kind == kind])
    out["correct_single_lease"] = mean([float(bool(r.correct)) for r in results if r.kind in ("field", "clause")])
    out["portfolio_set_f1"] = mean([r.f1 for r in results if r.kind == "portfolio" and r.f1 is not None])
    out["unanswerable_refused"] = mean([float(r.refused) for r in results if r.kind == "unanswerable"])
    answerable = [r for r in results if r.kind in ("field", "clause", "portfolio")]
    out["false_refusal_rate"] = mean([float(r.refused) for r in answerable])
    times = [r.ms for r in results]
    out["p50_ms"] = round(float(np.percentile(times, 50)), 1) if times else None
    out["p95_ms"] = round(float(np.percentile(times, 95)), 1) if times else None
    return out


def run(questions: Sequence[dict[str, Any]], *, answer: Callable[[str], Any],
        retrieve: Callable[[str], Sequence[Any]]) -> list[QuestionResult]:
    """Ask every question (timed, after one warm-up) and score it."""
    if questions:
        answer(questions[0]["question"])
    results = []
    for q in questions:
        t = time.perf_counter()
        a = answer(q["question"])
        ms = (time.perf_counter() - t) * 1000
        results.append(score_question(q, a, retrieve(q["question"]), ms))
    return results


def report(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Summary overall and per split, plus every question's result."""
    splits = sorted({r.split for r in results})
    return {"all": summarise(results), **{s: summarise([r for r in results if r.split == s]) for s in splits},
            "results": [r.to_dict() for r in results]}
