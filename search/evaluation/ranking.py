"""Runs of queries through the search service, as pytrec_eval reads them: query id → document id →
score, documents ranked by their best chunk."""
from search.services import search


def rank_documents(document_ids, *, exclude_id: str | None = None) -> dict[str, float]:
    """Document ids in hit order (one per chunk hit, repeats allowed) → each document once, at its
    first rank, with scores strictly decreasing so pytrec_eval keeps that order. `exclude_id`:
    a document dropped from the ranking (the query itself, for datasets whose queries are documents)."""
    ranking: dict[str, float] = {}
    for doc_id in document_ids:
        if doc_id not in ranking and doc_id != exclude_id:
            ranking[doc_id] = float(1000 - len(ranking))
    return ranking


class QueryEmbeddingCache:
    """`embedder`, embedding each query once: an evaluation runs the same queries in several modes
    and fusions, and embedding them is most of a query's time."""

    def __init__(self, embedder):
        self._embedder = embedder
        self._embedded = {}

    def embed_query(self, text):
        if text not in self._embedded:
            self._embedded[text] = self._embedder.embed_query(text)
        return self._embedded[text]

    def __getattr__(self, name):
        return getattr(self._embedder, name)


def rank_queries(*, user, queries: dict[str, str], mode: str, depth: int = 100, fusion=None,
                 ignore_identical_ids: bool = False, index=None, embedder=None, progress=None) -> dict:
    """Every query through `search()` as `user` (`depth` chunk hits each); the run of the queries.
    Document ids are the BEIR ids the corpus was loaded under (its documents' source ids)."""
    runs = {}
    for query_id, text in queries.items():
        hits = search(user=user, query=text, mode=mode, top_k=depth, fusion=fusion, index=index, embedder=embedder,
                      leg_ranks=False).hits
        runs[query_id] = rank_documents((hit.source_id for hit in hits),
                                        exclude_id=query_id if ignore_identical_ids else None)
        if progress:
            progress(1)
    return runs
