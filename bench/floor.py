"""The floor of a search: what no server can avoid for one query, measured the way a search meets it.

Each query is embedded both ways, then the engine's hybrid top 10 is asked for it, back to back:
the engine then finds the processor's caches as the embedding left them, as it does inside every
search. Timed in separate loops the engine reads faster (its index stays hot between queries) and
the floor comes out lower than any search can go; docs/bench.md gives both."""
import statistics
import time

from django.conf import settings

from chunks.embedding import get_embedder
from chunks.vector_index import QueryFilter, SearchMode, ensure_index_ready
from search.services import default_fusion


def search_floor(user, queries) -> dict[str, float]:
    """p50s (ms) over `queries` of embedding the query, of the engine's hybrid query right after
    it, and their sum (`floor`)."""
    embedder, index = get_embedder(), ensure_index_ready()
    embed, engine = [], []
    for q in queries:
        started = time.perf_counter()
        e = embedder.embed_query(q)
        embedded = time.perf_counter()
        index.query(query_filter=QueryFilter(owner_id=user.pk), dense=e["dense"], sparse_indices=e["sparse"]["indices"],
                    sparse_values=e["sparse"]["values"], mode=SearchMode.HYBRID, limit=10, prefetch_limit=settings.SEARCH_PREFETCH_LIMIT,
                    fusion=default_fusion())
        engine.append(time.perf_counter() - embedded)
        embed.append(embedded - started)
    medians = {"embedding": statistics.median(embed) * 1000, "engine": statistics.median(engine) * 1000}
    return {**medians, "floor": medians["embedding"] + medians["engine"]}
