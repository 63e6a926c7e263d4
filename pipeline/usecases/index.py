"""Index: the single writer turns extracted documents into chunks + vectors in a new index generation."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterable, Protocol, Sequence

from pipeline.domain.errors import NotFound
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
