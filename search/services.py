"""The read path: query → embedded both ways → one hybrid query in the vector store, filtered to
the caller's own chunks → the hits' text read back from Postgres in rank order."""
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from chunks.embedding import Embedder, get_embedder
from chunks.models import Chunk
from chunks.selectors import chunk_hit_rows
from chunks.vector_index import Fusion, QueryFilter, SearchMode, VectorIndex, ensure_index_ready
from search.grouping import DocumentResult, group_by_document
from search.highlighting import QueryTerms, highlight
from search.metrics import SEARCH_LATENCY

logger = logging.getLogger(__name__)

# What a search may ask for, and what it gets when it does not say (the API, the page and the
# admin's search-as-user take these).
DEFAULT_MODE = SearchMode.HYBRID
MAX_TOP_K = 100
MAX_QUERY_CHARS = 1000
DEFAULT_MORE_PASSAGES = 2
MAX_MORE_PASSAGES = 5


def default_top_k() -> int:
    return settings.SEARCH_DEFAULT_TOP_K


def default_fusion() -> Fusion:
    """SEARCH_FUSION (a system check refuses a value that does not parse)."""
    return Fusion.parse(settings.SEARCH_FUSION)


@dataclass(frozen=True)
class SearchFilters:
    document_ids: list[int] | None = None
    sources: list[str] | None = None
    mime_types: list[str] | None = None
    modified_after: datetime | None = None


@dataclass
class SearchHit:
    chunk_id: int
    document_id: int
    score: float
    text: str
    snippet: str
    title: str
    source: str
    source_id: str
    mime_type: str
    url: str
    page: int | None
    ordinal: int
    headings: list[str] = field(default_factory=list)  # the section's heading path, outermost first
    link: str = ""  # the original, at the passage's page where it has one ("#page=N")
    # Ranks among each leg's candidates (None: not among them); the words of text the query matched.
    dense_rank: int | None = None
    sparse_rank: int | None = None
    matched_words: list[str] = field(default_factory=list)
    context_before: list[str] = field(default_factory=list)
    context_after: list[str] = field(default_factory=list)


@dataclass
class DocumentSearchResult:
    query: str
    mode: str
    fusion: str | None  # how the hybrid mode merged its legs (None in a single-leg mode)
    documents: list[DocumentResult]  # this page's
    count: int  # documents found (among the SEARCH_GROUP_DEPTH best chunks)
    page: int
    next_page: int | None
    pending_chunks: int
    dropped_stale: int
    took_ms: float


@dataclass
class SearchResult:
    query: str
    mode: str
    fusion: str | None
    hits: list[SearchHit]
    pending_chunks: int
    dropped_stale: int
    took_ms: float


def search(
    *, user, query: str, mode: str = DEFAULT_MODE, top_k: int | None = None, filters: SearchFilters | None = None,
    context_chunks: int = 0, fusion: Fusion | None = None, prefetch_limit: int | None = None,
    index: VectorIndex | None = None, embedder: Embedder | None = None, leg_ranks: bool = True,
) -> SearchResult:
    """The caller's `top_k` chunks (default SEARCH_DEFAULT_TOP_K) that best match `query`. The
    hybrid mode merges `prefetch_limit` candidates of each leg by `fusion` (defaults
    SEARCH_FUSION and SEARCH_PREFETCH_LIMIT; at least `top_k` candidates). Each hit carries its rank in the dense and
    the sparse leg unless `leg_ranks` is False, and the words it matched. Raises
    chunks.vector_index.VectorStoreUnavailable when the store cannot answer."""
    started = time.perf_counter()
    mode = SearchMode(mode)
    fusion = fusion or default_fusion()
    hits, dropped, pending = _read_hits(user, _scored(
        user=user, query=query, mode=mode, limit=top_k or default_top_k(), filters=filters, fusion=fusion,
        prefetch_limit=prefetch_limit, index=index, embedder=embedder, leg_ranks=leg_ranks,
    ))
    _complete(hits, query=query, embedder=embedder, context_chunks=context_chunks)
    return SearchResult(
        query=query,
        mode=mode.value,
        fusion=str(fusion) if mode == SearchMode.HYBRID else None,
        hits=hits,
        pending_chunks=pending,
        dropped_stale=dropped,
        took_ms=_observe(mode, started),
    )


def search_documents(
    *, user, query: str, mode: str = DEFAULT_MODE, filters: SearchFilters | None = None, page: int = 1,
    page_size: int | None = None, more_passages: int = DEFAULT_MORE_PASSAGES, context_chunks: int = 0,
    fusion: Fusion | None = None, prefetch_limit: int | None = None, index: VectorIndex | None = None,
    embedder: Embedder | None = None,
) -> DocumentSearchResult:
    """Page `page` of the documents that best match `query` (`page_size` a page, default
    SEARCH_DEFAULT_TOP_K), each with its best passage and up to `more_passages` more (see
    search.grouping). The documents are those among the SEARCH_GROUP_DEPTH best chunks."""
    started = time.perf_counter()
    mode = SearchMode(mode)
    fusion = fusion or default_fusion()
    page_size = page_size or default_top_k()
    scored = _scored(
        user=user, query=query, mode=mode, limit=settings.SEARCH_GROUP_DEPTH, filters=filters, fusion=fusion,
        prefetch_limit=prefetch_limit, index=index, embedder=embedder, leg_ranks=True,
    )
    first = (page - 1) * page_size
    # Grouped by the hits' payload document first, so only the passages on this page are read.
    documents = group_by_document(scored, more_passages=more_passages)
    hits, dropped, pending = _read_hits(user, [p for d in documents[first : first + page_size] for p in d.passages])
    if dropped or any(s.document_id is None for s in scored):
        # A point whose chunk is gone (waiting in the outbox for deletion) must not leave a hole in
        # the page: group the candidates that still have rows instead.
        hits, dropped, pending = _read_hits(user, scored)
        documents = group_by_document(hits, more_passages=more_passages)
        hits = [p for d in documents[first : first + page_size] for p in d.passages]
    _complete(hits, query=query, embedder=embedder, context_chunks=context_chunks)
    return DocumentSearchResult(
        query=query,
        mode=mode.value,
        fusion=str(fusion) if mode == SearchMode.HYBRID else None,
        documents=group_by_document(hits, more_passages=more_passages),
        count=len(documents),
        page=page,
        next_page=page + 1 if first + page_size < len(documents) else None,
        pending_chunks=pending,
        dropped_stale=dropped,
        took_ms=_observe(mode, started),
    )


def _scored(*, user, query, mode, limit, filters, fusion, prefetch_limit, index, embedder, leg_ranks):
    """The store's `limit` best points for the caller, in rank order."""
    filters = filters or SearchFilters()
    embedded = (embedder or get_embedder()).embed_query(query)
    return ensure_index_ready(index).query(
        query_filter=QueryFilter(
            owner_id=user.pk,
            document_ids=filters.document_ids,
            sources=filters.sources,
            mime_types=filters.mime_types,
            modified_after=filters.modified_after,
        ),
        dense=embedded["dense"] if mode != SearchMode.SPARSE else None,
        sparse_indices=embedded["sparse"]["indices"] if mode != SearchMode.DENSE else None,
        sparse_values=embedded["sparse"]["values"] if mode != SearchMode.DENSE else None,
        mode=mode,
        limit=limit,
        prefetch_limit=max(settings.SEARCH_PREFETCH_LIMIT if prefetch_limit is None else prefetch_limit, limit),
        fusion=fusion,
        leg_ranks=leg_ranks,
    )


def _observe(mode, started) -> float:
    """The search's time in ms, recorded in the latency histogram."""
    took_seconds = time.perf_counter() - started
    SEARCH_LATENCY.labels(mode=mode.value).observe(took_seconds)
    return took_seconds * 1000


def _read_hits(user, scored):
    """The scored points' chunks as hits in rank order (no snippets yet), how many of the points
    had no chunk row any more, and the user's chunks not yet searchable."""
    # owner=user again in SQL: the store's filter is the first line of isolation, not the only one.
    rows, pending = chunk_hit_rows(user, [s.id for s in scored])
    hits = []
    for s in scored:
        row = rows.get(s.id)
        if row is None:
            continue
        chunk_id, text, ordinal, metadata, document_id, title, source, source_id, mime_type, url = row
        hits.append(
            SearchHit(
                chunk_id=chunk_id,
                document_id=document_id,
                score=s.score,
                text=text,
                snippet="",
                title=title,
                source=source,
                source_id=source_id,
                mime_type=mime_type,
                url=url,
                page=metadata.get("page"),
                ordinal=ordinal,
                headings=metadata.get("headings") or [],
                link=f"{url}#page={metadata['page']}" if url and metadata.get("page") else url,
                dense_rank=s.dense_rank,
                sparse_rank=s.sparse_rank,
            )
        )
    if len(hits) < len(scored):
        # Points whose chunks are gone (deleted, re-chunked) wait in the outbox for deletion.
        logger.info("search dropped %d hits whose chunks no longer exist", len(scored) - len(hits))
    return hits, len(scored) - len(hits), pending


def _complete(hits, *, query, embedder, context_chunks):
    """Snippets, matched words and (if asked) neighbouring chunks, for the hits shown only: a
    grouped search reads SEARCH_GROUP_DEPTH hits and shows a page of them."""
    terms = QueryTerms(query, (embedder or get_embedder()).sparse_terms)
    for hit in hits:
        hit.snippet = highlight(hit.text, terms)
        hit.matched_words = terms.matched_words(hit.text)
    if context_chunks:
        _attach_context(hits, context_chunks)


def _attach_context(hits, width):
    wanted = {(h.document_id, o) for h in hits for o in range(h.ordinal - width, h.ordinal + width + 1)}
    texts = {
        (d, o): t
        for d, o, t in Chunk.objects.filter(
            document_id__in={h.document_id for h in hits}, ordinal__in={o for _, o in wanted}
        ).values_list("document_id", "ordinal", "text")
        if (d, o) in wanted
    }
    for hit in hits:
        hit.context_before = [texts[k] for o in range(hit.ordinal - width, hit.ordinal) if (k := (hit.document_id, o)) in texts]
        hit.context_after = [
            texts[k] for o in range(hit.ordinal + 1, hit.ordinal + width + 1) if (k := (hit.document_id, o)) in texts
        ]
