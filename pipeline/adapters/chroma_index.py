"""Chroma vector index in generations: one writer builds generation N+1 beside N, readers follow CURRENT.

Layout under the root directory:
    gen-000007/          never written once published
        orgs/<hash>/     one folder per organisation: ORG (its id), a Chroma persistent directory holding its one
                         collection (a filtered query over a shared collection cost ~200-340 ms at 100k chunks,
                         an unfiltered one ~4-10 ms), lexical.sqlite3 (its BM25 table + the manifest of indexed
                         document versions) and postings/. Folders of organisations a batch did not touch are
                         hard links to generation N's files, so a publish copies only what changed.
    CURRENT              the name of the published generation (replaced atomically)
    writer.lock          flock-ed by the single writer (the lock object is injectable)
Older generations held every organisation in one Chroma directory at the generation's top; readers still serve
them and the next writer moves them into per-organisation folders.

Durability: Chroma keeps the vectors applied since its last HNSW save only in its log (chroma.sqlite3), and a fresh
process replays that tail on open, writing as it goes. The writer therefore saves every HNSW segment before it
publishes (`flush_generation`) and refuses to publish a generation whose segments lag its log.

Readers never write to a generation: Chroma writes chroma.sqlite3 even to open a collection, so each reader process
opens a private copy of that one file (in a temporary directory, per organisation folder content) whose HNSW
segment folders are symlinks to the shared, read-only ones; the lexical index and postings are read in place
(SQLite immutable, mmap). An organisation unchanged by a new generation keeps its opened store.
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

CURRENT = "CURRENT"
PUBLISHED = "PUBLISHED"
_GEN = re.compile(r"^gen-(\d{6,})$")
_META_KEYS = ("org_id", "document_id", "page", "start", "end", "section", "filename")
_MAX_BATCH = 5000
_CHROMA_DB = "chroma.sqlite3"
ORGS = "orgs"
ORG_FILE = "ORG"  # the organisation id of an organisation folder (folder names are hashes)
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
    """Segments whose saved state lags Chroma's log, in a Chroma directory or every organisation folder of a
    generation (empty when every record is saved)."""
    orgs = generation_orgs(path)
    folders = list(orgs.values()) if orgs is not None else [Path(path)]
    out: list[str] = []
    for folder in folders:
        db = folder / _CHROMA_DB
        if not db.exists():
            continue
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT s.id, s.scope, COALESCE(m.seq_id, 0), "
                "(SELECT MAX(q.seq_id) FROM embeddings_queue q WHERE q.topic LIKE '%/' || s.collection) "
                "FROM segments s LEFT JOIN max_seq_id m ON m.segment_id = s.id").fetchall()
        finally:
            conn.close()
        out += [f"{folder.name}/{scope}:{sid} at {saved} < {logged}" for sid, scope, saved, logged in rows
                if logged is not None and saved < logged]
    return out


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
    """Private, writable copies of store folders' chroma.sqlite3 for one reader; removed when released."""

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

    def open(self, folder: Path, name: str) -> Path:
        """A directory Chroma can open in place of folder: a copy of its chroma.sqlite3 beside symlinks to its
        segment folders (made once per name)."""
        target = self._root() / name
        if target.exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=".copy-", dir=self.root))
        for entry in folder.iterdir():
            if entry.name.startswith(_CHROMA_DB):  # the database and any -wal/-journal left beside it
                shutil.copyfile(entry, tmp / entry.name)
            elif entry.is_dir() and _SEGMENT_DIR.match(entry.name):
                os.symlink(entry.resolve(), tmp / entry.name, target_is_directory=True)
        os.rename(tmp, target)
        return target

    def repoint(self, name: str, folder: Path) -> None:
        """Point a copy's segment symlinks at another folder holding the same files."""
        copy = self.root / name
        for link in copy.iterdir():
            if link.is_symlink():
                tmp = copy / f".{link.name}.tmp"
                os.symlink((folder / link.name).resolve(), tmp, target_is_directory=True)
                os.replace(tmp, link)

    def release(self, name: str) -> None:
        """Remove one copy."""
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


def org_folder_name(org_id: str) -> str:
    """Folder of one organisation inside a generation (a hash, like its collection name)."""
    return collection_name(org_id)


def generation_orgs(gen_dir: Path) -> dict[str, Path] | None:
    """organisation id → its folder in a per-organisation generation; None for a single-store (older) one."""
    orgs = Path(gen_dir) / ORGS
    if not orgs.is_dir():
        return None
    found = {(p / ORG_FILE).read_text(): p for p in sorted(orgs.iterdir()) if (p / ORG_FILE).is_file()}
    for org_id, folder in found.items():
        if folder.name != org_folder_name(org_id):  # defence in depth: a folder serves only its own organisation
            raise RuntimeError(f"index folder {folder.name} does not belong to the organisation it names")
    return found


def _manifest_of(lexical_db: Path) -> dict[tuple[str, str], str]:
    if not lexical_db.exists():
        return {}
    reader = LexicalReader(lexical_db)
    try:
        return reader.indexed()
    finally:
        reader.close()


def generation_manifest(gen_dir: Path) -> dict[tuple[str, str], str]:
    """(organisation, document) → version indexed in one generation (chroma_lexical.ADOPTED for documents of
    generations written before manifests existed)."""
    orgs = generation_orgs(gen_dir)
    if orgs is None:
        return _manifest_of(Path(gen_dir) / LEXICAL_DB)
    out: dict[tuple[str, str], str] = {}
    for folder in orgs.values():
        out.update(_manifest_of(folder / LEXICAL_DB))
    return out


def published_manifest(root: Path) -> dict[tuple[str, str], str]:
    """The manifest of the published generation ({} before the first one)."""
    name = Generations(root).current()
    return generation_manifest(Path(root) / name) if name else {}


def link_tree(src: Path, dst: Path) -> int:
    """Hard-link every file of src into a new tree dst (a copy where links are refused); returns the files.

    Safe because published folders are never written: writers open fresh copies, readers open nothing for write."""
    count = copied = 0
    for dirpath, _dirs, files in os.walk(src):
        target = dst / Path(dirpath).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(dirpath) / name, target / name)
            except OSError:  # a file system without hard links: correct, only slower
                shutil.copy2(Path(dirpath) / name, target / name)
                copied += 1
            count += 1
    if copied:
        log.warning("hard links refused; organisation folder copied", extra={"folder": src.name, "files": copied})
    return count


class _OrgStore:
    """The Chroma directory and lexical index of one organisation in the generation being written."""

    def __init__(self, org_id: str, path: Path) -> None:
        self.org_id = org_id
        self.path = path
        self.client = _client(path)
        try:
            self.lexical = LexicalWriter(path / LEXICAL_DB)
        except BaseException:
            self.client.close()
            raise
        self._collection: Any = None

    def collection(self, *, create: bool) -> Any:
        if self._collection is None:
            self._collection = _collection(self.client, collection_name(self.org_id), create=create)
        return self._collection

    def close(self, *, commit: bool) -> None:
        try:
            self.lexical.close(commit=commit)
        finally:
            self.client.close()


class ChromaIndexWriter:
    """The single writer: under the lock, builds generation N+1 from N and publishes it.

    Only the organisations a batch touches are copied from N (and rewritten); the folders of the others are
    hard-linked, so publishing costs what the changed organisations weigh, not the whole index.
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
        self._stores: dict[str, _OrgStore] = {}
        self._base_orgs: dict[str, Path] = {}
        self._name: str | None = None

    # --- lifecycle -----------------------------------------------------------------------------------
    def begin(self, *, fresh: bool = False) -> str:
        """Take the lock and prepare generation N+1 (based on N, or empty when fresh); returns its name."""
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
            (target / ORGS).mkdir(parents=True)
            self._name, self._stores, self._base_orgs = name, {}, {}
            if current and not fresh:
                base = self.gens.root / current
                orgs = generation_orgs(base)
                if orgs is None:
                    self._migrate_single_store(base)
                else:
                    self._base_orgs = orgs
            log.info("index generation started", extra={"generation": name, "base": current})
            return name
        except BaseException:
            self._close(commit=False)
            self._name = None
            self._lock.release()
            raise

    def commit(self) -> str:
        """Save the touched organisations, link the others, publish, prune old generations, release the lock."""
        if self._name is None:
            raise RuntimeError("commit without begin")
        name = self._name
        target = self.gens.root / name
        try:
            touched = list(self._stores.values())
            self._close(commit=True)
            for store in touched:
                flush_generation(store.path)
            linked = 0
            for org_id, folder in self._base_orgs.items():
                if org_id not in {s.org_id for s in touched}:
                    linked += link_tree(folder, target / ORGS / folder.name)
            self.gens.publish(name)
            removed = self.gens.prune(keep=self._keep, grace_s=self._grace_s)
            log.info("index generation published", extra={"generation": name, "pruned": removed,
                                                            "organisations_written": len(touched),
                                                            "files_linked": linked})
            return name
        finally:
            self._name = None
            self._lock.release()

    def abort(self) -> None:
        """Discard the unpublished generation and release the lock."""
        name = self._name
        self._close(commit=False)
        self._name = None
        if name:
            shutil.rmtree(self.gens.root / name, ignore_errors=True)
        self._lock.release()

    def batch(self, *, fresh: bool = False) -> "_Batch":
        """Context manager: begin (from N, or empty when fresh), then commit on success or abort."""
        return _Batch(self, fresh=fresh)

    def _migrate_single_store(self, base: Path) -> None:
        """Move a single-store generation (every organisation in one Chroma directory, maybe one shared
        collection) into per-organisation folders, manifest included. Reads a private copy: opening the
        published directory would write to it."""
        scratch = self.gens.root / self._require_name() / ".single-store"
        scratch.mkdir()
        for entry in base.iterdir():
            if entry.name.startswith(_CHROMA_DB):
                shutil.copyfile(entry, scratch / entry.name)
            elif entry.is_dir() and _SEGMENT_DIR.match(entry.name):
                shutil.copytree(entry, scratch / entry.name)
        client = _client(scratch)
        total = 0
        try:
            for col in client.list_collections():
                offset = 0
                while True:
                    res = col.get(include=["documents", "metadatas", "embeddings"], limit=_MAX_BATCH, offset=offset)
                    if not res["ids"]:
                        break
                    self.upsert([chunk_from_record(i, t, m) for i, t, m in
                                 zip(res["ids"], res["documents"], res["metadatas"])], res["embeddings"])
                    offset += len(res["ids"])
                total += offset
        finally:
            client.close()
        shutil.rmtree(scratch)
        for (org_id, document_id), version in _manifest_of(base / LEXICAL_DB).items():
            self.mark_indexed(org_id, document_id, version)
        log.info("index moved to per-organisation folders", extra={"chunks": total})

    def _require_name(self) -> str:
        if self._name is None:
            raise RuntimeError("writer used outside begin()/commit()")
        return self._name

    def _store(self, org_id: str, *, create: bool) -> _OrgStore | None:
        """The organisation's store in the new generation: a copy of its folder in N, or a new one."""
        if not org_id:
            raise ValueError("org_id is required")
        store = self._stores.get(org_id)
        if store is not None:
            return store
        base = self._base_orgs.get(org_id)
        if base is None and not create:
            return None
        folder = self.gens.root / self._require_name() / ORGS / org_folder_name(org_id)
        if base is not None:
            shutil.copytree(base, folder)
        else:
            folder.mkdir()
            (folder / ORG_FILE).write_text(org_id)
        store = self._stores[org_id] = _OrgStore(org_id, folder)
        return store

    def _close(self, *, commit: bool) -> None:
        stores, self._stores = list(self._stores.values()), {}
        errors = []
        for store in stores:
            try:
                store.close(commit=commit)
            except Exception as exc:  # close every store, then report the first failure
                errors.append(exc)
        if errors and commit:
            raise errors[0]
        for exc in errors:  # aborting: the generation is being discarded anyway
            log.warning("closing an aborted organisation store failed", exc_info=exc)

    # --- manifest ------------------------------------------------------------------------------------
    def mark_indexed(self, org_id: str, document_id: str, version: str) -> None:
        """Record the version (latest extraction id) a document was indexed from in this generation."""
        store = self._store(org_id, create=True)
        assert store is not None
        store.lexical.mark_indexed(org_id, document_id, version)

    def indexed(self) -> dict[tuple[str, str], str]:
        """(organisation, document) → version: of the generation being written inside a batch, else of the
        published one."""
        if self._name is None:
            return published_manifest(self.gens.root)
        out: dict[tuple[str, str], str] = {}
        for org_id, folder in self._base_orgs.items():
            if org_id not in self._stores:
                out.update(_manifest_of(folder / LEXICAL_DB))
        for store in self._stores.values():
            out.update(store.lexical.indexed())
        return out

    # --- VectorIndex ---------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Add or replace chunks with their vectors in the generation being written."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        self._require_name()
        # One float32 matrix: Chroma takes it as is (lists of numpy scalars are refused, lists of floats are slow).
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1)
        by_org: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            by_org.setdefault(c.org_id, []).append(i)
        for org_id, rows in by_org.items():
            store = self._store(org_id, create=True)
            assert store is not None
            col = store.collection(create=True)
            for i in range(0, len(rows), _MAX_BATCH):
                part = [chunks[r] for r in rows[i:i + _MAX_BATCH]]
                col.upsert(ids=[c.id for c in part], embeddings=matrix[rows[i:i + _MAX_BATCH]],
                           documents=[c.text for c in part], metadatas=[_metadata(c) for c in part])
            store.lexical.upsert([chunks[r] for r in rows])

    def delete_document(self, org_id: str, document_id: str) -> None:
        """Remove every chunk of one document of one organisation."""
        self._require_name()
        store = self._store(org_id, create=False)
        if store is None:
            return
        col = store.collection(create=False)
        if col is not None:
            col.delete(where={"document_id": document_id})
        store.lexical.delete_document(org_id, document_id)

    def query(self, org_id: str, vector: Sequence[float], *, top_k: int = 5,
              document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Nearest chunks of the organisation in the generation being written."""
        where = _where(org_id, document_ids)
        self._require_name()
        store = self._store(org_id, create=False)
        col = store.collection(create=False) if store is not None else None
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


class _View:
    """One opened store of a generation: an organisation's folder, or a whole single-store generation."""

    def __init__(self, folder: Path, client: Any, lexical: LexicalReader | None, copy: str) -> None:
        self.folder = folder
        self.client = client
        self.lexical = lexical
        self.copy = copy
        self.collections: dict[str, Any] = {}

    def close(self) -> None:
        self.client.close()
        if self.lexical is not None:
            self.lexical.close()


def _identity(folder: Path) -> str:
    """Names the content of a store folder: its chroma.sqlite3 inode survives hard-linking into later
    generations, so an unchanged organisation keeps its opened view across generation switches."""
    st = os.stat(folder / _CHROMA_DB)
    return f"{folder.name}-{st.st_dev}-{st.st_ino}-{st.st_mtime_ns}"


class ChromaIndexReader:
    """Query side: opens the published generation only (lazily, per organisation), switches when CURRENT moves."""

    def __init__(self, root: Path, *, check_interval_s: float = 0.0, retire_after_s: float = 30.0,
                 copies_dir: Path | None = None) -> None:
        self.gens = Generations(Path(root))
        self._copies = LocalCopies(copies_dir)
        self._check_interval_s = check_interval_s
        self._retire_after_s = retire_after_s
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._name: str | None = None
        self._orgs: dict[str, Path] | None = None  # None: single-store generation
        self._views: dict[str, _View] = {}  # identity → opened view, for the served generation
        self._retired: list[tuple[float, Any, str | None]] = []  # (since, view or lexical reader, its copy)

    @property
    def generation(self) -> str | None:
        """Name of the generation being served (after refreshing)."""
        self._refresh()
        return self._name

    def _refresh(self) -> str | None:
        """The published generation's name (None before the first publish), switching when CURRENT moves."""
        now = time.monotonic()
        if self._name is not None and now - self._checked_at < self._check_interval_s:
            return self._name
        try:
            st = os.stat(self.gens.root / CURRENT)
            stamp: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        self._checked_at = now
        if stamp == self._stamp and self._name is not None:
            return self._name
        with self._lock:
            if stamp == self._stamp and self._name is not None:
                return self._name
            name = self.gens.current()
            if name is not None and name != self._name:
                orgs = generation_orgs(self.gens.root / name)
                folders = list(orgs.values()) if orgs is not None else [self.gens.root / name]
                present = {_identity(f): f for f in folders if (f / _CHROMA_DB).exists()}
                for key in list(self._views):
                    view = self._views[key]
                    if key not in present:
                        # In-flight queries may still use the old view: close it only after a while.
                        self._retired.append((now, self._views.pop(key), key))
                    elif view.folder != present[key]:
                        self._follow(view, present[key], now)
                self._name, self._orgs = name, orgs
                log.info("index reader switched generation", extra={"generation": name, "kept_open": len(self._views)})
            self._stamp = stamp
            still = []
            for when, old, copy in self._retired:
                if now - when >= self._retire_after_s:
                    old.close()
                    if copy is not None:
                        self._copies.release(copy)
                else:
                    still.append((when, old, copy))
            self._retired = still
            return self._name

    def _follow(self, view: _View, folder: Path, now: float) -> None:
        """Keep an unchanged organisation's view open, reading from the new generation's (hard-linked) folder:
        the old generation will be pruned."""
        self._copies.repoint(view.copy, folder)
        if view.lexical is not None:
            self._retired.append((now, view.lexical, None))
            view.lexical = LexicalReader(folder / LEXICAL_DB) if (folder / LEXICAL_DB).exists() else None
        view.folder = folder

    def _view(self, org_id: str) -> _View | None:
        """The opened store holding the organisation in the served generation (None when it has none)."""
        if not org_id:
            raise ValueError("org_id is required for every index read")
        name = self._refresh()
        if name is None:
            return None
        orgs = self._orgs
        folder = (orgs.get(org_id) if orgs is not None else self.gens.root / name)
        if folder is None or not (folder / _CHROMA_DB).exists():
            return None
        key = _identity(folder)
        view = self._views.get(key)
        if view is not None:
            return view
        with self._lock:
            view = self._views.get(key)
            if view is None:
                lex_path = folder / LEXICAL_DB
                lexical = LexicalReader(lex_path) if lex_path.exists() else None
                if lexical is None:
                    log.warning("generation has no lexical index; lexical search falls back to the retriever",
                                extra={"generation": name})
                view = _View(folder, _client(self._copies.open(folder, key)), lexical, key)
                self._views[key] = view
            return view

    def org_ids(self) -> list[str]:
        """Organisations with chunks in the served generation."""
        name = self._refresh()
        if name is None:
            return []
        if self._orgs is not None:
            return sorted(self._orgs)
        path = self.gens.root / name / LEXICAL_DB
        if not path.exists():
            return []
        lexical = LexicalReader(path)
        try:
            return lexical.org_ids()
        finally:
            lexical.close()

    def warm(self, org_ids: Sequence[str] | None = None) -> str | None:
        """Open the published generation and load the vector segments of its organisations; returns its name."""
        for org_id in self.org_ids() if org_ids is None else org_ids:
            col = self.collection(org_id)
            if col is not None:
                col.count()  # loads the organisation's segments
        return self._name

    def collection(self, org_id: str) -> Any:
        """The organisation's Chroma collection in the served generation (None when it has no chunks there)."""
        view = self._view(org_id)
        if view is None:
            return None
        name = collection_name(org_id)
        col = view.collections.get(name)
        if col is None:
            col = _collection(view.client, name, create=False)
            if col is not None:
                view.collections[name] = col
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
        view = self._view(org_id)
        if view is None:
            return [] if self._name is not None else None
        if view.lexical is None:
            return None
        hits = view.lexical.search(org_id, question, top_k=top_k, document_ids=document_ids)
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
        """Release every open store and remove the private copies."""
        with self._lock:
            for _, old, _copy in self._retired:
                old.close()
            for view in self._views.values():
                view.close()
            self._retired, self._views = [], {}
            self._name = self._orgs = self._stamp = None
            self._copies.close()
