"""The floor of a search: what no server can avoid for one query, measured the way a search meets it.

Each query is embedded both ways, then the engine's hybrid top 10 is asked for it, back to back:
the engine then finds the processor's caches as the embedding left them, as it does inside every
search. Timed in separate loops the engine reads faster (its index stays hot between queries) and
the floor comes out lower than any search can go; docs/bench.md gives both.

Beside it, `grouped_floor`: the same with the engine request a grouped search (the API's default)
makes, SEARCH_GROUP_DEPTH hits with each leg's ranks: the part of the API's time above the floor
that is the engine's and not the web server's."""
import statistics
import threading
import time

from django.conf import settings

from chunks.embedding import get_embedder
from chunks.vector_index import QueryFilter, SearchMode, ensure_index_ready
from search.services import default_fusion


def ask_engine(index, user, embedding, fusion, *, grouped: bool = False):
    """The engine's hybrid top 10 for one embedded query, with the service's prefetch depth; or
    (`grouped`) what a grouped search asks: SEARCH_GROUP_DEPTH hits with each leg's ranks. Returns
    the hits."""
    limit = settings.SEARCH_GROUP_DEPTH if grouped else 10
    return index.query(query_filter=QueryFilter(owner_id=user.pk), dense=embedding["dense"],
                       sparse_indices=embedding["sparse"]["indices"], sparse_values=embedding["sparse"]["values"],
                       mode=SearchMode.HYBRID, limit=limit,
                       prefetch_limit=max(settings.SEARCH_PREFETCH_LIMIT, limit), fusion=fusion, leg_ranks=grouped)


def search_floor(user, queries) -> dict[str, float]:
    """p50s (ms) over `queries` of embedding the query, of the engine's hybrid query right after
    it, and their sum (`floor`); and `grouped_floor`, the embedding's p50 plus that of the grouped
    search's engine request, each query embedded again before it."""
    embedder, index, fusion = get_embedder(), ensure_index_ready(), default_fusion()
    times = {"embedding": [], "engine": [], "grouped engine": []}
    for q in queries:
        for grouped, engine in ((False, "engine"), (True, "grouped engine")):
            started = time.perf_counter()
            e = embedder.embed_query(q)
            embedded = time.perf_counter()
            ask_engine(index, user, e, fusion, grouped=grouped)
            times[engine].append(time.perf_counter() - embedded)
            times["embedding"].append(embedded - started)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {**medians, "floor": medians["embedding"] + medians["engine"],
            "grouped_floor": medians["embedding"] + medians["grouped engine"]}


def search_floor_throughput(user, queries, *, threads: int, seconds: float) -> tuple[float, float]:
    """Searches a second when `threads` threads of this process do nothing but the floor's work
    (embed the query, ask the engine), round-robin over `queries`: what the server's worker, with
    as many threads, could at most serve without HTTP, Django or Postgres on this machine; and the
    CPU ms this process spent per search meanwhile."""
    embedder, index = get_embedder(), ensure_index_ready()
    fusion, done, deadline = default_fusion(), [0] * threads, time.perf_counter() + seconds

    def run(slot: int):
        n = slot
        while time.perf_counter() < deadline:
            ask_engine(index, user, embedder.embed_query(queries[n % len(queries)]), fusion)
            done[slot] += 1
            n += threads

    started, cpu_started = time.perf_counter(), time.process_time()
    workers = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    searches = sum(done)
    return searches / (time.perf_counter() - started), (time.process_time() - cpu_started) * 1000 / searches
