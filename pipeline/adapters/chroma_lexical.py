"""BM25 beside each Chroma generation, per organisation, written by the index writer.

The writer keeps `lexical.sqlite3` (chunk rows + one FTS5 table per organisation) in step with the collection
(upsert/delete) and, when it commits, rebuilds the numpy postings of every organisation it touched under
`postings/<table>/`. Readers score with the memory-mapped postings (FTS5's bm25() visits every chunk a
common word matches: ~100 ms at 100k chunks) and fall back to FTS5 for generations written without them.
Statistics (IDF, average length) are per organisation because every organisation has its own table/folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.index.chunk import embedding_text
from pipeline.index.postings import Postings, write_postings
from pipeline.index.retrieve import tokens
from pipeline.ports import Chunk, Hit
from pipeline.usecases.index import ADOPTED

log = logging.getLogger(__name__)

LEXICAL_DB = "lexical.sqlite3"
POSTINGS_DIR = "postings"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, document_id TEXT NOT NULL,
    page INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL,
    text TEXT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_doc ON chunk (org_id, document_id);
CREATE TABLE IF NOT EXISTS org_table (org_id TEXT PRIMARY KEY, name TEXT NOT NULL);
"""
# What each indexed document was indexed from (its latest extraction id): the writer's manifest.
_INDEXED = "CREATE TABLE indexed (org_id TEXT NOT NULL, document_id TEXT NOT NULL, version TEXT NOT NULL, " \
           "PRIMARY KEY (org_id, document_id))"
# Our tokens() keep "2,500.00" whole; FTS5 must not split them again.
_TOKENIZE = "unicode61 tokenchars '.,'"


def table_name(org_id: str) -> str:
    """FTS5 table of one organisation (a hash: organisation ids never reach SQL text)."""
    return "lex_" + hashlib.sha1(org_id.encode()).hexdigest()[:24]


def match_expression(question: str) -> str | None:
    """FTS5 query: any of the question's tokens, each quoted (None when there is none)."""
    terms = sorted(set(tokens(question)))
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class LexicalWriter:
    """Keeps the FTS5 tables of one generation being written in step with its Chroma collection."""

    def __init__(self, path: Path) -> None:
        self._postings_root = Path(path).parent / POSTINGS_DIR
        self._conn = sqlite3.connect(str(path), isolation_level=None)
        self._conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self._conn.execute("BEGIN")
        if not self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'indexed'").fetchone():
            self._conn.execute(_INDEXED)
            self._conn.execute("INSERT INTO indexed SELECT DISTINCT org_id, document_id, ? FROM chunk", (ADOPTED,))
        self._tables = dict(self._conn.execute("SELECT org_id, name FROM org_table").fetchall())
        self._touched: set[str] = set()

    def _table(self, org_id: str) -> str:
        name = self._tables.get(org_id)
        if name is None:
            name = table_name(org_id)
            self._conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5(body, tokenize=\"{_TOKENIZE}\")")
            self._conn.execute("INSERT OR REPLACE INTO org_table VALUES (?, ?)", (org_id, name))
            self._tables[org_id] = name
        self._touched.add(name)
        return name

    def _remove(self, rows: Iterable[tuple[int, str]]) -> None:
        by_org: dict[str, list[int]] = defaultdict(list)
        for rowid, org in rows:
            by_org[org].append(rowid)
        for org, rowids in by_org.items():
            marks = ",".join("?" * len(rowids))
            self._conn.execute(f"DELETE FROM {self._table(org)} WHERE rowid IN ({marks})", rowids)
            self._conn.execute(f"DELETE FROM chunk WHERE rowid IN ({marks})", rowids)

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Add or replace chunks (by id)."""
        ids = [c.id for c in chunks]
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            self._remove(self._conn.execute(
                f"SELECT rowid, org_id FROM chunk WHERE id IN ({','.join('?' * len(part))})", part).fetchall())
        for c in chunks:
            # The same extra metadata Chroma keeps, so hits read alike from either side.
            extra = {"filename": str(c.metadata.get("filename", ""))}
            if c.metadata.get("context"):
                extra["context"] = str(c.metadata["context"])
            cur = self._conn.execute(
                'INSERT INTO chunk (id, org_id, document_id, page, start, "end", section, text, meta) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (c.id, c.org_id, c.document_id, c.page, c.start, c.end, c.section or "", c.text,
                 json.dumps(extra, default=str)))
            self._conn.execute(f"INSERT INTO {self._table(c.org_id)} (rowid, body) VALUES (?, ?)",
                               (cur.lastrowid, " ".join(tokens(embedding_text(c)))))

    def delete_document(self, org_id: str, document_id: str) -> None:
        """Remove every chunk of one document of one organisation (and its manifest entry)."""
        self._remove(self._conn.execute("SELECT rowid, org_id FROM chunk WHERE org_id = ? AND document_id = ?",
                                        (org_id, document_id)).fetchall())
        self._conn.execute("DELETE FROM indexed WHERE org_id = ? AND document_id = ?", (org_id, document_id))

    def mark_indexed(self, org_id: str, document_id: str, version: str) -> None:
        """Record which version of the document the generation holds."""
        self._conn.execute("INSERT OR REPLACE INTO indexed VALUES (?, ?, ?)", (org_id, document_id, version))

    def indexed(self) -> dict[tuple[str, str], str]:
        """(organisation, document) → version, of every document in the generation being written."""
        return {(o, d): v for o, d, v in self._conn.execute("SELECT org_id, document_id, version FROM indexed")}

    def close(self, *, commit: bool = True) -> None:
        """Commit (or roll back) and close."""
        if commit:
            self._conn.execute("COMMIT")
            for name in sorted(self._touched):
                self._conn.execute(f"INSERT INTO {name} ({name}) VALUES ('optimize')")
                rows = self._conn.execute(f"SELECT f.rowid, f.body, c.document_id FROM {name} f "
                                          f"JOIN chunk c ON c.rowid = f.rowid ORDER BY f.rowid")
                count = write_postings(self._postings_root / name, rows)
                log.debug("lexical postings written", extra={"table": name, "chunks": count})
        else:
            self._conn.execute("ROLLBACK")
        self._conn.close()


def _chunk(row: Sequence[Any]) -> Chunk:
    cid, org, doc, page, start, end, section, text, meta = row[:9]
    return Chunk(id=cid, org_id=org, document_id=doc, page=int(page), start=int(start), end=int(end), text=text,
                 section=section, metadata=json.loads(meta))


class LexicalReader:
    """BM25 search of one published generation (opened read-only and immutable)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._tables = dict(self._conn.execute("SELECT org_id, name FROM org_table").fetchall())
        self._postings_root = Path(path).parent / POSTINGS_DIR
        self._postings: dict[str, Postings | None] = {}

    def org_ids(self) -> list[str]:
        """Organisations with a table in this generation."""
        return sorted(self._tables)

    def indexed(self) -> dict[tuple[str, str], str]:
        """(organisation, document) → version indexed; ADOPTED for each document of a generation written
        before manifests existed."""
        with self._lock:
            if self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'indexed'").fetchone():
                rows = self._conn.execute("SELECT org_id, document_id, version FROM indexed").fetchall()
            else:
                rows = self._conn.execute("SELECT DISTINCT org_id, document_id, ? FROM chunk", (ADOPTED,)).fetchall()
        return {(o, d): v for o, d, v in rows}

    def _org_postings(self, name: str) -> Postings | None:
        with self._lock:
            if name not in self._postings:
                folder = self._postings_root / name
                self._postings[name] = Postings(folder) if Postings.exists(folder) else None
            return self._postings[name]

    def search(self, org_id: str, question: str, *, top_k: int,
               document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Best chunks of the organisation by BM25 (k1=1.2, b=0.75), optionally within some documents."""
        name = self._tables.get(org_id)
        expr = match_expression(question)
        if name is None or expr is None or top_k <= 0 or (document_ids is not None and not document_ids):
            return []
        postings = self._org_postings(name)
        if postings is not None:
            return self._postings_search(postings, org_id, question, top_k=top_k, document_ids=document_ids)
        sql = (f'SELECT c.id, c.org_id, c.document_id, c.page, c.start, c."end", c.section, c.text, c.meta, '
               f"bm25({name}) AS s FROM {name} JOIN chunk c ON c.rowid = {name}.rowid "
               f"WHERE {name} MATCH ? AND c.org_id = ?")
        args: list[Any] = [expr, org_id]
        if document_ids is not None:
            sql += f" AND c.document_id IN ({','.join('?' * len(document_ids))})"
            args += list(document_ids)
        sql += " ORDER BY s LIMIT ?"
        args.append(top_k)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [Hit(chunk=_chunk(r), score=-float(r[9])) for r in rows]

    def _postings_search(self, postings: Postings, org_id: str, question: str, *, top_k: int,
                         document_ids: Sequence[str] | None) -> list[Hit]:
        best = postings.top(tokens(question), top_k=top_k, document_ids=document_ids)
        if not best:
            return []
        rowids = [r for r, _ in best]
        with self._lock:
            rows = self._conn.execute(
                'SELECT id, org_id, document_id, page, start, "end", section, text, meta, rowid FROM chunk '
                f"WHERE rowid IN ({','.join('?' * len(rowids))})", rowids).fetchall()
        # Looked up by rowid alone: with org_id in the WHERE clause SQLite walks the (org_id, document_id)
        # index over every chunk of the organisation (~20 ms at 100k). The organisation is checked here.
        by_rowid = {r[9]: r for r in rows if r[1] == org_id}
        return [Hit(chunk=_chunk(by_rowid[r]), score=s) for r, s in best if r in by_rowid]

    def chunks(self, org_id: str, document_ids: Sequence[str] | None = None) -> list[Chunk]:
        """Every chunk of the organisation (optionally within some documents)."""
        sql = 'SELECT id, org_id, document_id, page, start, "end", section, text, meta FROM chunk WHERE org_id = ?'
        args: list[Any] = [org_id]
        if document_ids is not None:
            sql += f" AND document_id IN ({','.join('?' * len(document_ids))})"
            args += list(document_ids)
        with self._lock:
            return [_chunk(r) for r in self._conn.execute(sql + " ORDER BY rowid", args).fetchall()]

    def close(self) -> None:
        """Close the database."""
        self._conn.close()
