#!/usr/bin/env python
"""Where one search's time goes: each part of it timed on its own, on this machine, in one run
(never part of the pytest suite).

    .venv/bin/python bench/search_parts.py [--chunks 10000] [--rounds 300]

Over the load section's store (synthetic chunks, indexed as `serve` does at start), each round
times every in-process part once, so the machine's drift reaches them alike: the query embedding
with the web server's one ONNX Runtime thread, the engine's fused top 10 (the floor's request) and
the grouped search's own request, the query's validation, the token's lookup, the read of one
page's rows, and the search service as a whole; then, apart, the query embedding with the floor's
default threads. Then, with the
store in a second process as in `serve`, the grouped request there and through the owner link;
then the production server: `/healthz` with urllib3 and with a bare socket, and one client's
search. Prints p50s; writes bench/results/search-parts-<timestamp>.json and .csv.
"""
import argparse
import multiprocessing
import socket
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from environment import start_serving_run  # noqa: E402
from table import print_and_save, record  # noqa: E402

SECTION = "parts"


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_rounds(parts: dict, rounds: int) -> dict[str, float]:
    """p50 (ms) of each of `parts` (name -> call taking the round's number), every part once a round."""
    samples = defaultdict(list)
    for n in range(rounds):
        for name, call in parts.items():
            started = time.perf_counter()
            call(n)
            samples[name].append(time.perf_counter() - started)
    return {name: p50_ms(values) for name, values in samples.items()}


def p50_of(call, rounds: int) -> float:
    return time_rounds({"call": call}, rounds)["call"]


def owner_process(ready, done, embedded, user, rounds):
    """The store's owner, as `serve` is: its own grouped requests timed, then the link served."""
    from chunks.vector_index import ensure_index_ready
    from chunks.vector_index.owner_link import OwnerLinkServer
    from floor import ask_engine
    from search.services import default_fusion

    index, fusion = ensure_index_ready(), default_fusion()
    link = OwnerLinkServer(index)
    alone = p50_of(lambda n: ask_engine(index, user, embedded[n % len(embedded)], fusion, grouped=True), rounds)
    ready.send((str(link.path), link.key, alone))
    done.recv()
    link.stop()


def bare_get(address: tuple[str, int], path: str, rounds: int) -> float:
    """p50 (ms) of GET `path` over one keep-alive socket, reading the answer by its length."""
    request = f"GET {path} HTTP/1.1\r\nHost: {address[0]}\r\n\r\n".encode()
    samples = []
    with socket.create_connection(address) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(rounds):
            started = time.perf_counter()
            connection.sendall(request)
            answer = b""
            while not _complete(answer):
                answer += connection.recv(65536)
            samples.append(time.perf_counter() - started)
    return p50_ms(samples)


def _complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    length = [line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    return len(body) >= int(length[0]) if length else body.endswith(b"0\r\n\r\n")  # chunked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    args, tmp = start_serving_run(parser, "ragbase-search-parts-")
    import load  # the project's modules, which need Django set up
    import sections
    import urllib3
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections
    from knox.models import AuthToken

    from chunks.embedding import configured_bm25, get_embedder
    from chunks.embedding.hybrid import HybridEmbedder
    from chunks.selectors import chunk_hit_rows
    from chunks.vector_index import ensure_index_ready, reset_vector_index
    from chunks.vector_index.owner_link import OwnerLinkIndex
    from floor import ask_engine
    from ragbase.api_tokens import _tokens_with_users, token_id
    from search.api.serializers import SearchRequestSerializer
    from search.services import default_fusion, search_documents

    started = time.perf_counter()
    user = get_user_model().objects.create_user("parts", password=load.PASSWORD)
    token = AuthToken.objects.create(user=user)[1]
    sections.add_load_chunks(user, args.chunks)
    index = ensure_index_ready()
    index.optimize()
    queries, fusion, floor_embedder = sections.load_queries(), default_fusion(), get_embedder()
    server_embedder = HybridEmbedder(dense_model=settings.DENSE_MODEL, sparse_model=settings.SPARSE_MODEL,
                                     models_dir=settings.MODELS_DIR, threads=settings.WEB_EMBED_THREADS,
                                     bm25=configured_bm25())
    embedded = [floor_embedder.embed_query(q) for q in queries]
    page_ids = [hit.id for hit in ask_engine(index, user, embedded[0], fusion, grouped=True)][:15]

    def query(n):
        return queries[n % len(queries)]

    in_process = time_rounds({
        f"query embedding, {settings.WEB_EMBED_THREADS} ONNX Runtime thread (the web server's)":
            lambda n: server_embedder.embed_query(query(n)),
        "engine: fused top 10 (the floor's request)": lambda n: ask_engine(index, user, embedded[n % 200], fusion),
        "engine: the grouped search's request (leg ranks, SEARCH_GROUP_DEPTH hits)":
            lambda n: ask_engine(index, user, embedded[n % 200], fusion, grouped=True),
        "query validation (the API's serializer)": lambda n: SearchRequestSerializer(data={"q": query(n)}).is_valid(),
        "token lookup (one SQL statement)": lambda n: _tokens_with_users(token_id(token)),
        "one page's hit rows and the pending count (one SQL statement)": lambda n: chunk_hit_rows(user, page_ids),
        "search service, grouped (embedding to rows and snippets)":
            lambda n: search_documents(user=user, query=query(n), embedder=server_embedder),
    }, args.rounds)
    # Apart: ONNX Runtime's extra threads spin for a while after each call, which would slow the
    # parts timed after it (the web server embeds with one thread, which does not spin).
    in_process["query embedding, ONNX Runtime's default threads (the floor's)"] = p50_of(
        lambda n: floor_embedder.embed_query(query(n)), args.rounds)
    for what, ms in in_process.items():
        record(SECTION, what, "p50", ms, "ms")

    reset_vector_index()  # the store goes to the owner process, as in `serve`
    connections.close_all()
    ready, ready_there = multiprocessing.Pipe()
    done, done_there = multiprocessing.Pipe()
    owner = multiprocessing.get_context("fork").Process(
        target=owner_process, args=(ready_there, done_there, embedded, user, args.rounds))
    owner.start()
    path, key, alone = ready.recv()
    linked = OwnerLinkIndex(path=path, key=key, collection=settings.QDRANT_COLLECTION)
    linked.ready = True
    through_link = p50_of(lambda n: ask_engine(linked, user, embedded[n % 200], fusion, grouped=True), args.rounds)
    linked.close()
    done.send(True)
    owner.join()
    record(SECTION, "engine: the grouped request in the store's owner process", "p50", alone, "ms")
    record(SECTION, "… the same through the owner link from another process", "p50", through_link, "ms")

    server = load.Server("gunicorn", tmp / "serve.log")
    try:
        target = urlsplit(server.url)
        pool = urllib3.HTTPConnectionPool(target.hostname, target.port, maxsize=1, retries=False, timeout=60)
        record(SECTION, "HTTP: /healthz through gunicorn, urllib3 client", "p50",
               p50_of(lambda n: pool.request("GET", "/healthz"), args.rounds), "ms")
        record(SECTION, "HTTP: /healthz through gunicorn, bare socket client", "p50",
               bare_get((target.hostname, target.port), "/healthz", args.rounds), "ms")
        one = load.hammer(url=f"{server.url}/api/search/", auth={"headers": {"Authorization": f"Token {token}"}},
                          queries=queries, clients=1, total=args.rounds)
        record(SECTION, "one client's API search through gunicorn (token, urllib3)", "p50", one["p50"], "ms")
    finally:
        server.stop()
    floor = (in_process["query embedding, ONNX Runtime's default threads (the floor's)"]
             + in_process["engine: fused top 10 (the floor's request)"])
    record(SECTION, "the floor (default-threads embedding + fused top 10), as a sum of the above", "p50", floor, "ms")
    record(SECTION, "one client's API search / the floor", "ratio", one["p50"] / floor, "x")
    print_and_save(prefix="search-parts-", seconds=time.perf_counter() - started, chunks=args.chunks)


if __name__ == "__main__":
    main()
