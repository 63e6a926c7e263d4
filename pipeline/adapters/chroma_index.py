"""Chroma vector index in generations: one writer builds generation N+1 beside N, readers follow CURRENT.

Layout under the root directory:
    gen-000007/      a complete Chroma persistent directory (never written once published): one collection per
                     organisation (a filtered query over a shared collection cost ~200-340 ms at 100k chunks,
                     an unfiltered one ~4-10 ms), with
                     lexical.sqlite3: the per-organisation BM25 (FTS5) tables kept in step by the writer
    CURRENT          the name of the published generation (replaced atomically)
    writer.lock      flock-ed by the single writer (the lock object is injectable)

Durability: Chroma keeps the vectors applied since its last HNSW save only in its log (chroma.sqlite3), and a fresh
process replays that tail on open, writing as it goes. The writer therefore saves every HNSW segment before it
publishes (`flush_generation`) and refuses to publish a generation whose segments lag its log.

Readers never write to a generation: Chroma writes chroma.sqlite3 even to open a collection, so each reader process
opens a private copy of that one file (in a temporary directory, per generation) whose HNSW segment folders are
symlinks to the shared, read-only ones; the lexical index and postings are read in place (SQLite immutable, mmap).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Protocol, Sequence
from weakref import finalize as weakref_finalize

import numpy as np

from pipeline.adapters.chroma_lexical import LEXICAL_DB, LexicalReader, LexicalWriter
from pipeline.domain.errors import TransientError, WriterBusy
from pipeline.ports import Chunk, Hit

log = logging.getLogger(__name__)

LEGACY_COLLECTION = "chunks"  # one shared collection, before per-organisation collections
CURRENT = "CURRENT"
PUBLISHED = "PUBLISHED"
_GEN = re.compile(r"^gen-(\d{6,})$")
_META_KEYS = ("org_id", "document_id", "page", "start", "end", "section", "filename")
_MAX_BATCH = 5000
_CHROMA_DB = "chroma.sqlite3"
_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WRITE_SYNC_THRESHOLD = 1000  # Chroma's default: HNSW saved every 1000 applied records while writing


class WriterLock(Protocol):
    """An exclusive lease for the single index writer."""

    def acquire(self, timeout_s: float | None = None) -> None:
        """Block until held (TransientError after timeout_s)."""

    def release(self) -> None:
        """Give the lease back."""


class FileWriterLock:
    """WriterLock over fcntl.flock on a local file (exclusive across processes and threads)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._fd: int | None = None

    def acquire(self, timeout_s: float | None = None) -> None:
        """Block until the flock is held; TransientError after timeout_s."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    os.close(fd)
                    raise TransientError("index writer lock is held by another writer") from None
                time.sleep(0.05)

    def release(self) -> None:
        """Unlock and close."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False,
                                                                             allow_reset=False))


def collection_name(org_id: str) -> str:
    """Chroma collection of one organisation (a hash: any organisation id makes a valid name)."""
    if not org_id:
        raise ValueError("org_id is required for every index read")
    return "org_" + hashlib.sha1(org_id.encode()).hexdigest()


def _collection(client: Any, name: str, *, create: bool) -> Any:
    """The named collection; None when it does not exist and create is false."""
    if create:
        # embedding_function=None: Chroma's default would try to download a model; we always pass vectors.
        return client.get_or_create_collection(name, embedding_function=None, metadata={"hnsw:space": "cosine"})
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError (ValueError in older versions)
        if "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException"):
            return None
        raise


def unflushed_segments(path: Path) -> list[str]:
    """Segments of the Chroma directory whose saved state lags its log (empty when every record is saved)."""
    db = Path(path) / _CHROMA_DB
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.id, s.scope, COALESCE(m.seq_id, 0), "
            "(SELECT MAX(q.seq_id) FROM embeddings_queue q WHERE q.topic LIKE '%/' || s.collection) "
            "FROM segments s LEFT JOIN max_seq_id m ON m.segment_id = s.id").fetchall()
    finally:
        conn.close()
    return [f"{scope}:{sid} at {saved} < {logged}" for sid, scope, saved, logged in rows
            if logged is not None and saved < logged]


def flush_generation(path: Path) -> None:
    """Save every collection's HNSW segment up to the end of Chroma's log; RuntimeError if any still lags.

    Chroma saves a segment only once sync_threshold records were applied since its last save, and applies the
    log tail when a segment is loaded. So: set the threshold to 1, reopen (the load applies the tail and saves),
    then put the writing threshold back for the next generation.
    """
    client = _client(path)
    try:
        for col in client.list_collections():
            col.modify(configuration={"hnsw": {"sync_threshold": 1}})
    finally:
        client.close()
    client = _client(path)
    try:
        for col in client.list_collections():
            col.count()  # loading the segments applies the log tail, saving it at threshold 1
            col.modify(configuration={"hnsw": {"sync_threshold": WRITE_SYNC_THRESHOLD}})
    finally:
        client.close()
    lagging = unflushed_segments(path)
    if lagging:
        raise RuntimeError(f"Chroma segments not saved up to the log end: {lagging[:3]}")


class LocalCopies:
    """Private, writable copies of generations' chroma.sqlite3 for one reader; removed when released."""

    def __init__(self, base: Path | None = None) -> None:
        self._base = base
        self._cleanup: Any = None
        self.root = Path()

    def _root(self) -> Path:
        if self._cleanup is None or not self._cleanup.alive:
            self.root = Path(tempfile.mkdtemp(prefix="atlas-index-", dir=self._base))
            # Removed with the reader, or at exit: copies never outlive the process that made them.
            self._cleanup = weakref_finalize(self, shutil.rmtree, self.root, True)
        return self.root

    def open(self, generation_dir: Path) -> Path:
        """A directory Chroma can open in place of generation_dir (copied once per generation name)."""
        target = self._root() / generation_dir.name
        if target.exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=".copy-", dir=self.root))
        for entry in generation_dir.iterdir():
            if entry.name.startswith(_CHROMA_DB):  # the database and any -wal/-journal left beside it
                shutil.copyfile(entry, tmp / entry.name)
            elif entry.is_dir() and _SEGMENT_DIR.match(entry.name):
                os.symlink(entry.resolve(), tmp / entry.name, target_is_directory=True)
        os.rename(tmp, target)
        return target

    def release(self, name: str) -> None:
        """Remove the copy of one generation."""
        if self._cleanup is not None and self._cleanup.alive:
            shutil.rmtree(self.root / name, ignore_errors=True)

    def close(self) -> None:
        """Remove every copy."""
        if self._cleanup is not None:
            self._cleanup()


def _where(org_id: str, document_ids: Sequence[str] | None) -> dict[str, Any] | None:
    """The filter inside the organisation's own collection: none, or its documents."""
    if not org_id:
        raise ValueError("org_id is required for every index read")
    if document_ids is None:
        return None
    return {"document_id": {"$in": list(document_ids)}}


def _metadata(chunk: Chunk) -> dict[str, Any]:
    meta = {"org_id": chunk.org_id, "document_id": chunk.document_id, "page": chunk.page,
            "start": chunk.start, "end": chunk.end, "section": chunk.section,
            "filename": str(chunk.metadata.get("filename", ""))}
    context = chunk.metadata.get("context")
    if context:
        meta["context"] = str(context)
    return meta


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """A Chunk rebuilt from what Chroma stores."""
    extra = {k: v for k, v in meta.items() if k not in _META_KEYS[:6]}
    return Chunk(id=chunk_id, org_id=str(meta["org_id"]), document_id=str(meta["document_id"]),
                 page=int(meta["page"]), start=int(meta["start"]), end=int(meta["end"]), text=text or "",
                 section=str(meta.get("section") or ""), metadata=extra)


def _hits(res: dict[str, Any], org_id: str) -> list[Hit]:
    hits = []
    for cid, text, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                     res["distances"][0]):
        chunk = chunk_from_record(cid, text, meta)
        if chunk.org_id != org_id:  # defence in depth: the where filter already guarantees this
            raise RuntimeError("index returned a chunk of another organisation")
        hits.append(Hit(chunk=chunk, score=1.0 - float(dist)))
    return hits


def published_manifest(root: Path) -> dict[tuple[str, str], str]:
    """(organisation, document) → version indexed in the published generation ({} before the first one).

    A generation written before manifests existed counts its documents as chroma_lexical.ADOPTED."""
    name = Generations(root).current()
    if name is None:
        return {}
    path = Path(root) / name / LEXICAL_DB
    if not path.exists():
        return {}
    reader = LexicalReader(path)
    try:
        return reader.indexed()
    finally:
        reader.close()


class Generations:
    """The generation directories under one root and the CURRENT pointer."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def current(self) -> str | None:
        """Name of the published generation, or None before the first publish."""
        try:
            name = (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def numbers(self) -> list[int]:
        """Numbers of every generation directory present (published or not), ascending."""
        if not self.root.exists():
            return []
        return sorted(int(m.group(1)) for p in self.root.iterdir() if (m := _GEN.match(p.name)))

    @staticmethod
    def name(number: int) -> str:
        """Directory name of generation number."""
        return f"gen-{number:06d}"

    def publish(self, name: str) -> None:
        """Point CURRENT at name atomically (temp file + fsync + rename)."""
        (self.root / name / PUBLISHED).write_text(f"{time.time():.3f}\n")
        tmp = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CURRENT)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def published_at(self, number: int) -> float | None:
        """When generation number was published (None when it never was)."""
        try:
            return float((self.root / self.name(number) / PUBLISHED).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def prune(self, *, keep: int = 2, grace_s: float = 60.0) -> list[str]:
        """Remove generations older than the last `keep`, once superseded for longer than grace_s."""
        current = self.current()
        nums = self.numbers()
        cur = int(current.split("-")[1]) if current else None
        published = [n for n in nums if cur is not None and n <= cur]
        removed = []
        now = time.time()
        for n in published[:-keep] if keep else published:
            successor = min((m for m in published if m > n), default=None)
            superseded = self.published_at(successor) if successor is not None else None
            if superseded is not None and now - superseded >= grace_s:
                shutil.rmtree(self.root / self.name(n), ignore_errors=True)
                removed.append(self.name(n))
        return removed


class ChromaIndexWriter:
    """The single writer: under the lock, copies the current generation, applies changes, publishes.

    Use as `with writer.batch() as w: w.upsert(...); w.delete_document(...)`; leaving the block publishes,
    an exception discards the unpublished generation.
    """

    def __init__(self, root: Path, *, lock: WriterLock | None = None, keep: int = 2, grace_s: float = 60.0,
                 lock_timeout_s: float | None = 600.0) -> None:
        self.gens = Generations(Path(root))
        self.gens.root.mkdir(parents=True, exist_ok=True)
        self._lock = lock or FileWriterLock(self.gens.root / "writer.lock")
        self._keep = keep
        self._grace_s = grace_s
        self._lock_timeout_s = lock_timeout_s
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lexical: LexicalWriter | None = None
        self._name: str | None = None

    # --- lifecycle -----------------------------------------------------------------------------------
    def begin(self, *, fresh: bool = False) -> str:
        """Take the lock and prepare generation N+1 (a copy of N, or empty when fresh); returns its name."""
        try:
            self._lock.acquire(self._lock_timeout_s)
        except TransientError as exc:
            raise WriterBusy(str(exc)) from exc
        try:
            current = self.gens.current()
            cur = int(current.split("-")[1]) if current else 0
            # Leftovers of a writer killed before publishing are newer than CURRENT: safe to clear.
            for n in self.gens.numbers():
                if n > cur:
                    shutil.rmtree(self.gens.root / self.gens.name(n), ignore_errors=True)
            name = self.gens.name(cur + 1)
            target = self.gens.root / name
            if current and not fresh:
                shutil.copytree(self.gens.root / current, target,
                                ignore=shutil.ignore_patterns(PUBLISHED))
            else:
                target.mkdir(parents=True)
            self._client = _client(target)
            self._collections = {}
            self._lexical = LexicalWriter(target / LEXICAL_DB)
            self._migrate_legacy()
            self._name = name
            log.info("index generation started", extra={"generation": name, "base": current})
            return name
        except BaseException:
            self._close()
            self._lock.release()
            raise

    def commit(self) -> str:
        """Flush and close the new generation, publish it, prune old ones, release the lock."""
        if self._name is None:
            raise RuntimeError("commit without begin")
        name = self._name
        try:
            if self._lexical is not None:
                self._lexical.close(commit=True)
                self._lexical = None
            self._close()
            flush_generation(self.gens.root / name)
            self.gens.publish(name)
            removed = self.gens.prune(keep=self._keep, grace_s=self._grace_s)
            log.info("index generation published", extra={"generation": name, "pruned": removed})
            return name
        finally:
            self._name = None
            self._lock.release()

    def abort(self) -> None:
        """Discard the unpublished generation and release the lock."""
        name = self._name
        self._close()
        self._name = None
        if name:
            shutil.rmtree(self.gens.root / name, ignore_errors=True)
        self._lock.release()

    def batch(self, *, fresh: bool = False) -> "_Batch":
        """Context manager: begin (from a copy, or empty when fresh), then commit on success or abort."""
        return _Batch(self, fresh=fresh)

    def _migrate_legacy(self) -> None:
        """Move a base generation's shared collection into per-organisation ones (+ lexical tables)."""
        legacy = _collection(self._client, LEGACY_COLLECTION, create=False)
        if legacy is None:
            return
        total = legacy.count()
        while True:
            res = legacy.get(include=["documents", "metadatas", "embeddings"], limit=_MAX_BATCH)
            if not res["ids"]:
                break
            chunks = [chunk_from_record(i, t, m) for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])]
            self.upsert(chunks, res["embeddings"])
            legacy.delete(ids=res["ids"])
        self._client.delete_collection(LEGACY_COLLECTION)
        log.info("index migrated to per-organisation collections", extra={"chunks": total})

    def _org_collection(self, org_id: str, *, create: bool) -> Any:
        self._require()
        col = self._collections.get(org_id)
        if col is None:
            col = _collection(self._client, collection_name(org_id), create=create)
            if col is not None:
                self._collections[org_id] = col
        return col

    def _close(self) -> None:
        if self._lexical is not None:
            self._lexical.close(commit=False)
            self._lexical = None
        if self._client is not None:
            self._client.close()
        self._client = None
        self._collections = {}

    def _require(self) -> Any:
        if self._client is None:
            raise RuntimeError("writer used outside begin()/commit()")
        return self._client

    # --- manifest ------------------------------------------------------------------------------------
    def mark_indexed(self, org_id: str, document_id: str, version: str) -> None:
        """Record the version (latest extraction id) a document was indexed from in this generation."""
        self._require()
        assert self._lexical is not None
        self._lexical.mark_indexed(org_id, document_id, version)

    def indexed(self) -> dict[tuple[str, str], str]:
        """(organisation, document) → version: the published generation's manifest (outside a batch), or
        the one being written (inside it)."""
        if self._lexical is not None:
            return self._lexical.indexed()
        return published_manifest(self.gens.root)

    # --- VectorIndex ---------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Add or replace chunks with their vectors in the generation being written."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        self._require()
        # One float32 matrix: Chroma takes it as is (lists of numpy scalars are refused, lists of floats are slow).
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1)
        by_org: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            by_org.setdefault(c.org_id, []).append(i)
        for org_id, rows in by_org.items():
            col = self._org_collection(org_id, create=True)
            for i in range(0, len(rows), _MAX_BATCH):
                part = [chunks[r] for r in rows[i:i + _MAX_BATCH]]
                col.upsert(ids=[c.id for c in part], embeddings=matrix[rows[i:i + _MAX_BATCH]],
                           documents=[c.text for c in part], metadatas=[_metadata(c) for c in part])
        assert self._lexical is not None
        self._lexical.upsert(chunks)

    def delete_document(self, org_id: str, document_id: str) -> None:
        """Remove every chunk of one document of one organisation."""
        col = self._org_collection(org_id, create=False)
        if col is not None:
            col.delete(where={"document_id": document_id})
        assert self._lexical is not None
        self._lexical.delete_document(org_id, document_id)

    def query(self, org_id: str, vector: Sequence[float], *, top_k: int = 5,
              document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Nearest chunks of the organisation in the generation being written."""
        where = _where(org_id, document_ids)
        col = self._org_collection(org_id, create=False)
        if col is None or top_k <= 0 or (document_ids is not None and not document_ids):
            return []
        res = col.query(query_embeddings=np.asarray([vector], dtype=np.float32), n_results=top_k, where=where,
                        include=["documents", "metadatas", "distances"])
        return _hits(res, org_id)


class _Batch:
    def __init__(self, writer: ChromaIndexWriter, *, fresh: bool = False) -> None:
        self._w = writer
        self._fresh = fresh
        self.generation: str | None = None

    def __enter__(self) -> ChromaIndexWriter:
        self._w.begin(fresh=self._fresh)
        return self._w

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.generation = self._w.commit()
        else:
            self._w.abort()


class ChromaIndexReader:
    """Query side: opens the published generation only, switches when CURRENT changes."""

    def __init__(self, root: Path, *, check_interval_s: float = 0.0, retire_after_s: float = 30.0,
                 copies_dir: Path | None = None) -> None:
        self.gens = Generations(Path(root))
        self._copies = LocalCopies(copies_dir)
        self._check_interval_s = check_interval_s
        self._retire_after_s = retire_after_s
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._name: str | None = None
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lexical: LexicalReader | None = None
        self._retired: list[tuple[float, Any, str | None]] = []  # (when, client or lexical, local copy)

    @property
    def generation(self) -> str | None:
        """Name of the generation being served (after refreshing)."""
        self._refresh()
        return self._name

    def _refresh(self) -> Any:
        """The client of the published generation (None before the first publish), switching when CURRENT moves."""
        now = time.monotonic()
        if self._client is not None and now - self._checked_at < self._check_interval_s:
            return self._client
        try:
            st = os.stat(self.gens.root / CURRENT)
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        self._checked_at = now
        if stamp == self._stamp and self._client is not None:
            return self._client
        with self._lock:
            if stamp == self._stamp and self._client is not None:
                return self._client
            name = self.gens.current()
            if name is None:
                self._stamp = stamp
                return None
            if name != self._name:
                client = _client(self._copies.open(self.gens.root / name))
                lex_path = self.gens.root / name / LEXICAL_DB
                lexical = LexicalReader(lex_path) if lex_path.exists() else None
                if lexical is None:
                    log.warning("generation has no lexical index; lexical search falls back to the retriever",
                                extra={"generation": name})
                if self._client is not None:
                    # In-flight queries may still use the old client: close it only after a while.
                    self._retired.append((now, self._client, self._name))
                    if self._lexical is not None:
                        self._retired.append((now, self._lexical, None))
                self._client, self._lexical, self._name, self._collections = client, lexical, name, {}
                log.info("index reader switched generation", extra={"generation": name})
            self._stamp = stamp
            keep = []
            for when, old, copy in self._retired:
                if now - when >= self._retire_after_s:
                    old.close()
                    if copy is not None:
                        self._copies.release(copy)
                else:
                    keep.append((when, old, copy))
            self._retired = keep
            return self._client

    def org_ids(self) -> list[str]:
        """Organisations with chunks in the served generation (from its lexical index; [] without one)."""
        self._refresh()
        lexical = self._lexical
        return lexical.org_ids() if lexical is not None else []

    def warm(self, org_ids: Sequence[str] | None = None) -> str | None:
        """Open the published generation and load the vector segments of its organisations; returns its name."""
        for org_id in self.org_ids() if org_ids is None else org_ids:
            col = self.collection(org_id)
            if col is not None:
                col.count()  # loads the organisation's segments (HNSW into memory)
        return self._name

    def collection(self, org_id: str) -> Any:
        """The organisation's Chroma collection in the served generation (None when it has no chunks there)."""
        name = collection_name(org_id)
        client = self._refresh()
        if client is None:
            return None
        cols = self._collections
        col = cols.get(name)
        if col is None:
            col = _collection(client, name, create=False)
            if col is not None and client is self._client:
                cols[name] = col
        return col

    def query(self, org_id: str, vector: Sequence[float], *, top_k: int = 5,
              document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Nearest chunks of the organisation (optionally within some of its documents)."""
        where = _where(org_id, document_ids)
        if top_k <= 0 or (document_ids is not None and not document_ids):
            return []
        col = self.collection(org_id)
        if col is None:
            return []
        res = col.query(query_embeddings=np.asarray([vector], dtype=np.float32), n_results=top_k, where=where,
                        include=["documents", "metadatas", "distances"])
        return _hits(res, org_id)

    def lexical_search(self, org_id: str, question: str, *, top_k: int = 5,
                       document_ids: Sequence[str] | None = None) -> list[Hit] | None:
        """BM25 hits of the organisation from the generation's lexical index (None when it has none)."""
        _where(org_id, document_ids)  # refuses a missing org_id like every read
        self._refresh()
        lexical = self._lexical
        if lexical is None:
            return None
        hits = lexical.search(org_id, question, top_k=top_k, document_ids=document_ids)
        if any(h.chunk.org_id != org_id for h in hits):
            raise RuntimeError("lexical index returned a chunk of another organisation")
        return hits

    def chunks(self, org_id: str, document_ids: Sequence[str] | None = None) -> list[Chunk]:
        """Every chunk of the organisation (optionally within some documents)."""
        where = _where(org_id, document_ids)
        if document_ids is not None and not document_ids:
            return []
        col = self.collection(org_id)
        if col is None:
            return []
        res = col.get(where=where, include=["documents", "metadatas"])
        out = [chunk_from_record(i, t, m) for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])]
        if any(c.org_id != org_id for c in out):
            raise RuntimeError("index returned a chunk of another organisation")
        return out

    def delete_document(self, org_id: str, document_id: str) -> None:
        """Readers never write: deletions go through the index job."""
        raise PermissionError("the index reader is read-only; delete through the index writer")

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Readers never write: upserts go through the index job."""
        raise PermissionError("the index reader is read-only; write through the index writer")

    def close(self) -> None:
        """Release every open generation."""
        with self._lock:
            for _, old, _copy in self._retired:
                old.close()
            self._retired = []
            if self._client is not None:
                self._client.close()
            if self._lexical is not None:
                self._lexical.close()
            self._client = self._name = self._lexical = None
            self._collections = {}
            self._stamp = None
            self._copies.close()
