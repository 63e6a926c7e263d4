"""In-memory fakes of the ports, for unit tests of the use cases."""
from __future__ import annotations

import copy
import hashlib
from typing import Any

from pipeline.domain.errors import Conflict, InvalidDocument, NotFound
from pipeline.domain.events import Event
from pipeline.domain.model import (Document, Extraction, ExtractionResult, FieldStatus, FieldValue, Citation)
from pipeline.parse.model import Page, ParsedDocument


class FakeBlobStore:
    """Dict of key → bytes."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        key = "sha256/" + hashlib.sha256(data).hexdigest()
        self.blobs[key] = data
        return key

    def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise NotFound(key)
        return self.blobs[key]

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def check(self) -> None:
        return None


class _State:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.extractions: list[Extraction] = []
        self.outbox: list[Event] = []
        self.webhook_events: list[tuple[str, str, dict]] = []  # (org, event type, payload); no endpoints in fakes


class FakeWebhooks:
    """Records what would be delivered; the SQL adapter's behaviour is tested against the real database."""

    def __init__(self, s: _State) -> None:
        self.s = s

    def enqueue(self, org_id: str, event_type: str, payload: dict) -> int:
        self.s.webhook_events.append((org_id, event_type, dict(payload)))
        return 0


class FakeDocuments:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, doc: Document) -> None:
        if any(d.org_id == doc.org_id and d.content_hash == doc.content_hash for d in self.s.documents.values()):
            raise Conflict("duplicate")
        self.s.documents[doc.id] = copy.deepcopy(doc)

    def get(self, org_id: str, doc_id: str) -> Document:
        d = self.s.documents.get(doc_id)
        if d is None or d.org_id != org_id:
            raise NotFound(doc_id)
        return copy.deepcopy(d)

    def get_any_org(self, doc_id: str) -> Document:
        if doc_id not in self.s.documents:
            raise NotFound(doc_id)
        return copy.deepcopy(self.s.documents[doc_id])

    def find_by_hash(self, org_id: str, content_hash: str) -> Document | None:
        for d in self.s.documents.values():
            if d.org_id == org_id and d.content_hash == content_hash:
                return copy.deepcopy(d)
        return None

    def list(self, org_id: str, *, limit: int = 100, offset: int = 0, status: str | None = None) -> list[Document]:
        docs = [d for d in self.s.documents.values() if d.org_id == org_id]
        return copy.deepcopy(docs[offset:offset + limit])

    def update(self, doc: Document) -> None:
        self.s.documents[doc.id] = copy.deepcopy(doc)

    def delete(self, org_id: str, doc_id: str) -> None:
        self.s.documents.pop(doc_id, None)
        self.s.extractions = [e for e in self.s.extractions if e.document_id != doc_id]


class FakeExtractions:
    def __init__(self, s: _State) -> None:
        self.s = s

    def add(self, e: Extraction) -> None:
        if any(x.document_id == e.document_id and x.version == e.version for x in self.s.extractions):
            raise Conflict("version exists")
        self.s.extractions.append(copy.deepcopy(e))

    def next_version(self, doc_id: str) -> int:
        return 1 + max((e.version for e in self.s.extractions if e.document_id == doc_id), default=0)

    def latest(self, org_id: str, doc_id: str) -> Extraction | None:
        xs = [e for e in self.s.extractions if e.document_id == doc_id and e.org_id == org_id]
        return max(xs, key=lambda e: e.version) if xs else None

    def get_version(self, org_id: str, doc_id: str, version: int) -> Extraction | None:
        for e in self.s.extractions:
            if (e.org_id, e.document_id, e.version) == (org_id, doc_id, version):
                return copy.deepcopy(e)
        return None

    def find(self, org_id: str, doc_id: str, content_hash: str, extractor_version: str) -> Extraction | None:
        for e in self.s.extractions:
            if (e.org_id, e.document_id, e.content_hash, e.extractor_version) == (
                    org_id, doc_id, content_hash, extractor_version):
                return e
        return None


class FakeOutbox:
    def __init__(self, s: _State) -> None:
        self.s = s
        self.pending: list[Event] = []

    def add(self, ev: Event) -> None:
        self.pending.append(ev)


class FakeUnitOfWork:
    """Changes become visible only on commit (copy-on-enter of the shared state)."""

    def __init__(self, shared: _State) -> None:
        self.shared = shared

    def __enter__(self) -> "FakeUnitOfWork":
        self.s = copy.deepcopy(self.shared)
        self.documents = FakeDocuments(self.s)
        self.extractions = FakeExtractions(self.s)
        self.outbox = FakeOutbox(self.s)
        self.webhooks = FakeWebhooks(self.s)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def hold_blob(self, key: str) -> None:
        """No lock needed: the fakes run on one thread."""

    def commit(self) -> None:
        self.s.outbox.extend(self.outbox.pending)
        self.outbox.pending = []
        self.shared.documents = copy.deepcopy(self.s.documents)
        self.shared.extractions = copy.deepcopy(self.s.extractions)
        self.shared.outbox = list(self.s.outbox)
        self.shared.webhook_events = list(self.s.webhook_events)

    def rollback(self) -> None:
        self.__enter__()


class FakeUowFactory:
    def __init__(self) -> None:
        self.state = _State()

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.state)


def fake_check_upload(data: bytes, filename: str) -> str:
    if not data:
        raise InvalidDocument("the file is empty", code="empty_file")
    return "text/plain"


def fake_parse(data: bytes, progress: Any = None) -> ParsedDocument:
    text = data.decode("utf-8", "replace")
    if not text.strip():
        raise InvalidDocument("no text found", code="no_text")
    if progress:
        progress("parsing", "page 1 of 1")
    return ParsedDocument(pages=[Page(number=1, text=text)], media_type="text/plain")


class FakeExtractor:
    """Finds 'Tenant: X' on page 1."""

    name = "fake"
    version = "fake-1"

    def __init__(self) -> None:
        self.calls = 0

    def extract(self, doc: ParsedDocument) -> ExtractionResult:
        self.calls += 1
        text = doc.pages[0].text
        fields: dict[str, FieldValue] = {}
        i = text.find("Tenant: ")
        if i >= 0:
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            quote = text[i + 8:end]
            fields["tenant"] = FieldValue(value=quote, raw=quote, confidence=0.9, status=FieldStatus.FOUND,
                                          citations=[Citation(page=1, start=i + 8, end=end, quote=quote)])
        return ExtractionResult(fields=fields, extractor="fake", extractor_version=self.version)
