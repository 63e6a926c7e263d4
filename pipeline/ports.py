"""Ports: the small interfaces the use cases need from the outside world."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence

from pipeline.domain.events import Event
from pipeline.domain.model import ApiKey, Document, Extraction, ExtractionResult, Organisation
from pipeline.domain.webhooks import Delivery, Webhook
from pipeline.parse.model import ParsedDocument

ProgressFn = Callable[[str, str], None]  # (stage, message)


class BlobStore(Protocol):
    """Content-addressed storage for uploaded bytes."""

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        """Store bytes and return their key (derived from the SHA-256, never from a file name)."""

    def get(self, key: str) -> bytes:
        """The bytes under key; raises NotFound."""

    def delete(self, key: str) -> None:
        """Remove the bytes under key (no error when already gone)."""

    def exists(self, key: str) -> bool:
        """Whether key holds bytes."""

    def check(self) -> None:
        """Raise if the store is unusable (readiness probe)."""


class EventBus(Protocol):
    """Delivers events to their consumers at least once."""

    def publish(self, event: Event) -> None:
        """Send one event; raises TransientError when the bus is unavailable."""


class DocumentRepository(Protocol):
    """Documents of one unit of work; every query is scoped by organisation."""

    def add(self, doc: Document) -> None: ...
    def get(self, org_id: str, doc_id: str) -> Document: ...
    def get_any_org(self, doc_id: str) -> Document: ...
    def find_by_hash(self, org_id: str, content_hash: str) -> Document | None: ...
    def list(self, org_id: str, *, limit: int = 100, offset: int = 0) -> list[Document]: ...
    def update(self, doc: Document) -> None: ...
    def delete(self, org_id: str, doc_id: str) -> None: ...


class ExtractionRepository(Protocol):
    """Versioned extractions."""

    def add(self, extraction: Extraction) -> None: ...
    def latest(self, org_id: str, doc_id: str) -> Extraction | None: ...
    def find(self, org_id: str, doc_id: str, content_hash: str, extractor_version: str) -> Extraction | None: ...
    def list_latest(self, org_id: str) -> list[Extraction]: ...


class OutboxRepository(Protocol):
    """Events written in the same transaction as the change they describe."""

    def add(self, event: Event) -> None: ...


class WebhookRepository(Protocol):
    """Webhooks and their deliveries (in the same transaction as the change they report)."""

    def add(self, hook: Webhook) -> None: ...
    def list(self, org_id: str) -> list[Webhook]: ...
    def get(self, org_id: str, hook_id: str) -> Webhook: ...
    def delete(self, org_id: str, hook_id: str) -> None: ...
    def enqueue(self, org_id: str, event_type: str, payload: dict[str, Any]) -> int: ...
    def claim_due(self, limit: int, *, lease_s: float) -> list[tuple[Delivery, Webhook]]: ...
    def record(self, delivery: Delivery) -> None: ...
    def deliveries(self, org_id: str, hook_id: str, *, limit: int) -> list[Delivery]: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; commit or roll back as a whole."""

    documents: DocumentRepository
    extractions: ExtractionRepository
    outbox: OutboxRepository
    webhooks: WebhookRepository

    def __enter__(self) -> "UnitOfWork": ...
    def __exit__(self, *exc: object) -> None: ...
    def hold_blob(self, key: str) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@dataclass(frozen=True)
class Chunk:
    """A passage of a document for retrieval, with where it sits."""

    id: str
    org_id: str
    document_id: str
    page: int
    start: int
    end: int
    text: str
    section: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its score."""

    chunk: Chunk
    score: float


class Embedder(Protocol):
    """Text → vectors."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""


class VectorIndex(Protocol):
    """Chunks with vectors; every query is filtered by organisation."""

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None: ...
    def delete_document(self, org_id: str, document_id: str) -> None: ...
    def query(self, org_id: str, vector: Sequence[float], *, top_k: int = 5,
              document_ids: Sequence[str] | None = None) -> list[Hit]: ...


class Extractor(Protocol):
    """Parsed lease → cited terms."""

    name: str
    version: str

    def extract(self, doc: ParsedDocument) -> ExtractionResult:
        """Extract every field, the rent schedule and risk flags, each with citations."""


class KeyStore(Protocol):
    """Organisations and their API keys."""

    def create_org(self, name: str) -> Organisation: ...
    def get_org_by_name(self, name: str) -> Organisation | None: ...
    def add_key(self, key: ApiKey) -> None: ...
    def find_key(self, prefix: str) -> Iterator[ApiKey]: ...
    def touch_key(self, key_id: str) -> None: ...
    def revoke_key(self, key_id: str) -> None: ...
