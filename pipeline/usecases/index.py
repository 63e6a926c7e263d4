"""Index: the single writer turns extracted documents into chunks + vectors in a new index generation."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterable, Mapping, Protocol, Sequence

from pipeline.domain.errors import NotFound, TransientError
from pipeline.domain.events import DOCUMENT_DELETED, EXTRACTION_COMPLETED, Event
from pipeline.domain.model import Document, DocumentStatus, Extraction
from pipeline.index.chunk import chunk_document, embedding_text
from pipeline.parse.model import ParsedDocument
from pipeline.ports import Embedder, VectorIndex

log = logging.getLogger(__name__)

CHUNK_CHARS = 600  # MiniLM was trained on 128-token inputs; ~600 characters fit that window
CHUNK_OVERLAP = 100
EMBED_BATCH = 128  # chunks per encode call: sorted by length inside it, so its 32-text model batches pad little
_CONTEXT_FIELDS = ("tenant", "landlord", "premises_address")
ADOPTED = "*"  # manifest version of documents indexed before versions were recorded (kept as current)


class IndexWriter(VectorIndex, Protocol):
    """A VectorIndex written in batches: each batch publishes one new generation."""

    def batch(self, *, fresh: bool = False) -> ContextManager[Any]: ...


@dataclass(frozen=True)
class IndexTarget:
    """One document to (re)index or to remove from the index."""

    org_id: str
    document_id: str
    delete: bool = False


def targets(items: Iterable[Event | IndexTarget]) -> list[IndexTarget]:
    """Index targets from events (extraction.completed, document.deleted); the last word per document wins."""
    out: dict[tuple[str, str], IndexTarget] = {}
    for item in items:
        if isinstance(item, IndexTarget):
            t = item
        elif item.type == EXTRACTION_COMPLETED:
            t = IndexTarget(item.org_id, str(item.payload["document_id"]))
        elif item.type == DOCUMENT_DELETED:
            t = IndexTarget(item.org_id, str(item.payload["document_id"]), delete=True)
        else:
            continue
        out.pop((t.org_id, t.document_id), None)
        out[(t.org_id, t.document_id)] = t
    return list(out.values())


def document_context(doc: Document, extraction: Extraction | None) -> str:
    """What every chunk of a document is embedded with: file name, parties and premises from the extraction."""
    parts = [doc.filename]
    if extraction is not None:
        for name in _CONTEXT_FIELDS:
            value = extraction.result.field(name).value
            if value:
                parts.append(str(value))
    return " | ".join(parts)


def version_of(extraction: Extraction | None) -> str:
    """What a document is indexed from: its latest extraction (its context fields), "" when it has none."""
    return extraction.id if extraction is not None else ""


def _write_document(doc: Document, parsed: ParsedDocument, extraction: Extraction | None, *,
                    embedder: Embedder, writer: VectorIndex) -> int:
    chunks = chunk_document(parsed, org_id=doc.org_id, document_id=doc.id, max_chars=CHUNK_CHARS,
                            overlap=CHUNK_OVERLAP,
                            metadata={"filename": doc.filename, "context": document_context(doc, extraction)})
    # Chunk ids follow offsets, so a re-parse could leave stale ids behind: replace the document whole.
    writer.delete_document(doc.org_id, doc.id)
    for i in range(0, len(chunks), EMBED_BATCH):
        part = chunks[i:i + EMBED_BATCH]
        writer.upsert(part, embedder.embed([embedding_text(c) for c in part]))
    mark = getattr(writer, "mark_indexed", None)  # writers without a manifest (test doubles) skip it
    if mark is not None:
        mark(doc.org_id, doc.id, version_of(extraction))
    return len(chunks)


def index_documents(items: Sequence[Event | IndexTarget], *, uow_factory: Callable[[], Any],
                    load_parsed: Callable[[Document], ParsedDocument], embedder: Embedder,
                    index_writer: IndexWriter) -> str | None:
    """Apply a batch of index changes as one new generation; returns its name (None when nothing to do)."""
    todo = targets(items)
    if not todo:
        return None
    batch = index_writer.batch()
    written = removed = 0
    with batch as writer:
        for t in todo:
            if t.delete:
                writer.delete_document(t.org_id, t.document_id)
                removed += 1
                continue
            with uow_factory() as uow:
                try:
                    doc = uow.documents.get(t.org_id, t.document_id)
                except NotFound:
                    doc = None
                extraction = uow.extractions.latest(t.org_id, t.document_id) if doc else None
            if doc is None:
                writer.delete_document(t.org_id, t.document_id)
                removed += 1
                continue
            n = _write_document(doc, load_parsed(doc), extraction, embedder=embedder, writer=writer)
            written += n
            log.info("document indexed", extra={"document_id": doc.id, "tenant_id": doc.org_id, "chunks": n})
    generation = getattr(batch, "generation", None)
    log.info("index batch published", extra={"generation": generation, "chunks": written, "deleted": removed})
    return generation


@dataclass(frozen=True)
class DocumentState:
    """A document as the database has it: its status and the version it should be indexed from."""

    status: str
    version: str


Key = tuple[str, str]  # (organisation, document)


def pending_targets(state: Mapping[Key, DocumentState], indexed: Mapping[Key, str]) -> list[IndexTarget]:
    """Work the database asks for and the index lacks: ready documents not indexed at their current
    version (adopted ones count as current), indexed documents the database no longer has."""
    todo = [IndexTarget(org, doc) for (org, doc), s in sorted(state.items())
            if s.status == DocumentStatus.READY.value and indexed.get((org, doc)) not in (s.version, ADOPTED)]
    todo += [IndexTarget(org, doc, delete=True) for org, doc in sorted(indexed) if (org, doc) not in state]
    return todo


def is_done(target: IndexTarget, state: Mapping[Key, DocumentState], indexed: Mapping[Key, str]) -> bool:
    """Whether the index already reflects the target (an asked-for re-index of an adopted document is not)."""
    key = (target.org_id, target.document_id)
    if target.delete or key not in state:
        return key not in indexed
    return indexed.get(key) == state[key].version


def drain_index(own: Sequence[IndexTarget], *, document_state: Callable[[], Mapping[Key, DocumentState]],
                uow_factory: Callable[[], Any], load_parsed: Callable[[Document], ParsedDocument],
                embedder: Callable[[], Embedder], index_writer: Any, max_rounds: int = 10) -> list[str]:
    """Apply own targets and every other pending change, one generation per round, until nothing is left.

    Raises WriterBusy when another writer holds the lease: it re-reads the pending work after each publish, so
    the caller can stop. A round starts only after the previous publish released the lease, so work committed
    while this writer held it is seen by the next round (or by whoever holds the lease then).
    """
    own = targets(own)
    published: list[str] = []
    for _ in range(max_rounds):
        state, indexed = document_state(), index_writer.indexed()
        todo = targets([*pending_targets(state, indexed), *(t for t in own if not is_done(t, state, indexed))])
        if not todo:
            return published
        log.info("index work pending", extra={"targets": len(todo), "own": len(own)})
        generation = index_documents(todo, uow_factory=uow_factory, load_parsed=load_parsed, embedder=embedder(),
                                     index_writer=index_writer)
        if generation:
            published.append(generation)
    raise TransientError(f"index work still pending after {max_rounds} generations")


def reindex_all(documents: Iterable[Document], *, uow_factory: Callable[[], Any],
                load_parsed: Callable[[Document], ParsedDocument], embedder: Embedder,
                index_writer: IndexWriter) -> str | None:
    """Rebuild the whole index from the database and blobs into a fresh generation (`atlas reindex`)."""
    batch = index_writer.batch(fresh=True)
    count = 0
    with batch as writer:
        for doc in documents:
            if doc.status != DocumentStatus.READY:
                continue
            with uow_factory() as uow:
                extraction = uow.extractions.latest(doc.org_id, doc.id)
            count += _write_document(doc, load_parsed(doc), extraction, embedder=embedder, writer=writer)
    log.info("index rebuilt", extra={"generation": getattr(batch, "generation", None), "chunks": count})
    return getattr(batch, "generation", None)


def delete_from_index(org_id: str, document_id: str, *, index_writer: IndexWriter) -> str | None:
    """Remove one document's vectors (publishes a new generation)."""
    return index_documents([IndexTarget(org_id, document_id, delete=True)], uow_factory=_no_uow,
                           load_parsed=_no_parse, embedder=_NoEmbedder(), index_writer=index_writer)


def _no_uow() -> Any:
    raise RuntimeError("deleting from the index needs no unit of work")


def _no_parse(doc: Document) -> ParsedDocument:
    raise RuntimeError("deleting from the index parses nothing")


class _NoEmbedder:
    dimension = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise RuntimeError("deleting from the index embeds nothing")
