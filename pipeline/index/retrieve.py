"""Retrieval over an organisation's chunks: llama-index vector search on Chroma, BM25, reciprocal rank fusion."""
from __future__ import annotations

import logging
import math
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from pipeline.index.chunk import embedding_text
from pipeline.ports import Chunk, Embedder, Hit

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be by do does for from has have how i in is it its of on or shall that the this "
    "to was what when where which who will with any there their under lease leases".split())
RRF_K = 60


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stopwords (numbers keep their separators: 2,500.00)."""
    return [t for t in _WORD.findall(text.lower()) if t not in STOPWORDS]


class ChunkSource(Protocol):
    """What the retriever reads: the published index generation (ChromaIndexReader satisfies it)."""

    @property
    def generation(self) -> str | None: ...
    def collection(self, org_id: str) -> Any: ...
    def query(self, org_id: str, vector: Sequence[float], *, top_k: int = 5,
              document_ids: Sequence[str] | None = None) -> list[Hit]: ...
    def chunks(self, org_id: str, document_ids: Sequence[str] | None = None) -> list[Chunk]: ...


class BM25:
    """Okapi BM25 over one organisation's chunks, with numpy postings for fast scoring."""

    def __init__(self, chunks: Sequence[Chunk], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.chunks = list(chunks)
        self._doc_ids = np.array([c.document_id for c in self.chunks], dtype=object)
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        lengths = np.zeros(len(self.chunks), dtype=np.float32)
        for i, c in enumerate(self.chunks):
            toks = tokens(embedding_text(c))
            lengths[i] = len(toks)
            for t in toks:
                postings[t][i] = postings[t].get(i, 0) + 1
        n = max(len(self.chunks), 1)
        avg = float(lengths.mean()) if len(self.chunks) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self._post: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, docs in postings.items():
            idx = np.fromiter(docs.keys(), dtype=np.int64, count=len(docs))
            tf = np.fromiter(docs.values(), dtype=np.float32, count=len(docs))
            idf = max(math.log((n - len(docs) + 0.5) / (len(docs) + 0.5)), 1e-6)  # as FTS5 and postings
            self._post[term] = (idx, (idf * tf * (k1 + 1) / (tf + norm[idx])).astype(np.float32))

    def search(self, query: str, *, top_k: int, document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Best-scoring chunks for the query words (optionally within some documents)."""
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        for term in set(tokens(query)):
            post = self._post.get(term)
            if post is not None:
                scores[post[0]] += post[1]
        if document_ids is not None:
            scores[~np.isin(self._doc_ids, list(document_ids))] = 0.0
        nz = np.flatnonzero(scores)
        if nz.size == 0:
            return []
        best = nz[np.argsort(-scores[nz], kind="stable")[:top_k]]
        return [Hit(chunk=self.chunks[i], score=float(scores[i])) for i in best]


def rrf(rankings: Sequence[Sequence[Hit]], *, top_k: int, k: int = RRF_K) -> list[Hit]:
    """Reciprocal rank fusion of ranked hit lists (score = Σ 1/(k + rank))."""
    fused: dict[str, float] = defaultdict(float)
    chunks: dict[str, Chunk] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.chunk.id] += 1.0 / (k + rank)
            chunks.setdefault(hit.chunk.id, hit.chunk)
    order = sorted(fused, key=lambda cid: (-fused[cid], cid))[:top_k]
    return [Hit(chunk=chunks[cid], score=fused[cid]) for cid in order]


def llama_embed_model(embedder: Embedder) -> Any:
    """A llama-index BaseEmbedding backed by our Embedder port."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class PortEmbedding(BaseEmbedding):
        """llama-index embedding over the Embedder port (no model download, no network)."""

        _embedder: Any = PrivateAttr()

        def __init__(self, port: Embedder, **kw: Any) -> None:
            super().__init__(model_name="atlas-embedder", embed_batch_size=64, **kw)
            self._embedder = port

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts)

    return PortEmbedding(embedder)


def _llama_filters(document_ids: Sequence[str] | None) -> Any:
    """Filters inside the organisation's own collection: its documents, or none (a filter matching every
    record sends Chroma down its slow filtered path)."""
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    if document_ids is None:
        return None
    return MetadataFilters(filters=[MetadataFilter(key="document_id", value=list(document_ids),
                                                   operator=FilterOperator.IN)])


def _chunk_from_node(node: Any) -> Chunk:
    meta = dict(node.metadata)
    return Chunk(id=node.node_id, org_id=str(meta.pop("org_id")), document_id=str(meta.pop("document_id")),
                 page=int(meta.pop("page")), start=int(meta.pop("start")), end=int(meta.pop("end")),
                 text=node.get_content(), section=str(meta.pop("section", "") or ""), metadata=meta)


@dataclass
class RetrieverConfig:
    """How retrieval ranks: hybrid fusion on/off, candidate depth, llama-index or direct Chroma."""

    hybrid: bool = True
    candidates: int = 30
    use_llama_index: bool = True
    bm25_cache_orgs: int = 8


class Retriever:
    """Top passages of one organisation for a question; never reads another organisation's chunks."""

    def __init__(self, source: ChunkSource, embedder: Embedder, config: RetrieverConfig | None = None,
                 *, bm25_factory: Callable[[Sequence[Chunk]], BM25] = BM25) -> None:
        self.source = source
        self.embedder = embedder
        self.config = config or RetrieverConfig()
        self._bm25_factory = bm25_factory
        self._bm25: OrderedDict[tuple[str, str], BM25] = OrderedDict()
        self._lock = threading.Lock()
        self._llama: dict[str, tuple[Any, Any]] = {}  # org → (its collection, VectorStoreIndex over it)
        self._embed_model: Any = None

    # --- vector ------------------------------------------------------------------------------------
    def _llama_index(self, org_id: str) -> Any:
        from llama_index.core import VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        collection = self.source.collection(org_id)
        if collection is None:
            return None
        with self._lock:
            found = self._llama.get(org_id)
            if found is None or found[0] is not collection:
                if self._embed_model is None:
                    self._embed_model = llama_embed_model(self.embedder)
                store = ChromaVectorStore(chroma_collection=collection)
                found = (collection, VectorStoreIndex.from_vector_store(store, embed_model=self._embed_model))
                self._llama[org_id] = found
                while len(self._llama) > self.config.bm25_cache_orgs:
                    self._llama.pop(next(iter(self._llama)))
            return found[1]

    def vector_search(self, org_id: str, question: str, *, top_k: int,
                      document_ids: Sequence[str] | None = None, vector: Sequence[float] | None = None) -> list[Hit]:
        """Nearest chunks by embedding, filtered by organisation (and documents)."""
        if not org_id:
            raise ValueError("org_id is required")
        if document_ids is not None and not document_ids:
            return []
        if not self.config.use_llama_index:
            vec = vector if vector is not None else self.embedder.embed([question])[0]
            return self.source.query(org_id, vec, top_k=top_k, document_ids=document_ids)
        from llama_index.core.schema import QueryBundle

        index = self._llama_index(org_id)
        if index is None:
            return []
        retriever = index.as_retriever(similarity_top_k=top_k, filters=_llama_filters(document_ids))
        bundle = QueryBundle(query_str=question, embedding=list(vector) if vector is not None else None)
        hits = []
        for scored in retriever.retrieve(bundle):
            chunk = _chunk_from_node(scored.node)
            if chunk.org_id != org_id:
                raise RuntimeError("retriever returned a chunk of another organisation")
            # llama-index reports exp(-cosine distance); report cosine similarity like the direct path.
            score = 1.0 + math.log(scored.score) if scored.score and scored.score > 0 else 0.0
            hits.append(Hit(chunk=chunk, score=score))
        return hits

    # --- lexical -----------------------------------------------------------------------------------
    def bm25(self, org_id: str) -> BM25:
        """The organisation's BM25 index for the served generation (built on first use, cached)."""
        key = (self.source.generation or "", org_id)
        with self._lock:
            found = self._bm25.get(key)
            if found is not None:
                self._bm25.move_to_end(key)
                return found
        built = self._bm25_factory(self.source.chunks(org_id))
        with self._lock:
            self._bm25[key] = built
            for old in [k for k in self._bm25 if k[0] != key[0]]:
                del self._bm25[old]
            while len(self._bm25) > self.config.bm25_cache_orgs:
                self._bm25.popitem(last=False)
        return built

    def lexical_search(self, org_id: str, question: str, *, top_k: int,
                       document_ids: Sequence[str] | None = None) -> list[Hit]:
        """Best chunks by BM25 within the organisation."""
        if not org_id:
            raise ValueError("org_id is required")
        if document_ids is not None and not document_ids:
            return []
        persisted = getattr(self.source, "lexical_search", None)
        if persisted is not None:
            hits = persisted(org_id, question, top_k=top_k, document_ids=document_ids)
            if hits is not None:
                return hits
        # A generation written before lexical indexes existed: BM25 in memory, once per generation and org.
        return self.bm25(org_id).search(question, top_k=top_k, document_ids=document_ids)

    # --- both --------------------------------------------------------------------------------------
    def retrieve(self, org_id: str, question: str, *, top_k: int = 5,
                 document_ids: Sequence[str] | None = None, vector: Sequence[float] | None = None) -> list[Hit]:
        """The top_k passages for the question (hybrid RRF when configured); vector: its embedding if known."""
        if not self.config.hybrid:
            return self.vector_search(org_id, question, top_k=top_k, document_ids=document_ids, vector=vector)
        depth = max(self.config.candidates, top_k)
        vec = self.vector_search(org_id, question, top_k=depth, document_ids=document_ids, vector=vector)
        lex = self.lexical_search(org_id, question, top_k=depth, document_ids=document_ids)
        return rrf([vec, lex], top_k=top_k)
