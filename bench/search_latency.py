#!/usr/bin/env python
"""Search latency in embedded mode: the API (Django test client, the whole stack) against the
floor (query embedding + one engine query), in the same run over the same queries.

    .venv/bin/python bench/search_latency.py [--chunks 50000] [--users 10] [--queries 300]

Runs on its own throw-away embedded PostgreSQL and qdrant-edge store in a temp dir. Chunk texts
are 60 words drawn from the 3,000 commonest words of a BEIR corpus (NFCorpus by default), their
sparse vectors are the real BM25 term ids of those words, their dense vectors random unit vectors
(embedding 50k chunks would take most of an hour on 2 cores; the engine's cost does not depend on
what the vectors mean). Queries are 2–4 of those words, embedded for real on every call. Chunks
are pushed by the real outbox drain; the API is GET /api/search/ as a logged-in user.
"""
import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outbox_drain import setup_django  # noqa: E402  (same throw-away Postgres + migrate)

DEFAULT_CORPUS = "/work/shared/datasets/nfcorpus/corpus.jsonl"


def vocabulary(corpus: Path, size: int) -> list[str]:
    counts = Counter()
    with open(corpus, encoding="utf-8") as rows:
        for line in rows:
            counts.update(w for w in re.findall(r"[a-z]{4,}", json.loads(line)["text"].lower()))
    return [w for w, _ in counts.most_common(size)]


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load_chunks(*, users, chunks, words, word_terms, dim, rng):
    from chunks.models import Chunk, Document, SyncStatus

    per_document = 100
    np_rng = np.random.default_rng(1)
    made = 0
    while made < chunks:
        owner = users[(made // per_document) % len(users)]
        document = Document.objects.create(owner=owner, source="upload", source_id=f"d{made}", title=f"Doc {made}",
                                           mime_type="text/plain", state="ready")
        batch = []
        dense = np_rng.standard_normal((per_document, dim)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        for ordinal in range(min(per_document, chunks - made)):
            text_words = rng.choices(words, k=60)
            terms = Counter(t for w in text_words for t in word_terms[w])
            batch.append(Chunk(
                document=document, owner=owner, ordinal=ordinal, text=" ".join(text_words), metadata={},
                sync_status=SyncStatus.PENDING, dense_vector=dense[ordinal].tolist(),
                sparse_indices=list(terms), sparse_values=[float(v) for v in terms.values()],
            ))
        Chunk.objects.bulk_create(batch)
        made += len(batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=50000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ragbase-bench-search-"))
    setup_django(tmp)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.throttling import ScopedRateThrottle

    from chunks.embedding import get_embedder
    from chunks.outbox import drain
    from chunks.vector_index import QueryFilter, SearchMode, set_vector_index
    from chunks.vector_index.qdrant_edge import EdgeVectorIndex
    from search.services import search

    setup_test_environment()  # lets the test client in (ALLOWED_HOSTS += testserver)
    ScopedRateThrottle.THROTTLE_RATES = {"search": "100000000/min"}
    rng = random.Random(42)
    embedder = get_embedder()
    words = vocabulary(Path(args.corpus), 3000)
    word_terms = {w: embedder.embed_query(w)["sparse"]["indices"] for w in words}
    users = [get_user_model().objects.create_user(f"bench{i}") for i in range(args.users)]
    started = time.perf_counter()
    load_chunks(users=users, chunks=args.chunks, words=words, word_terms=word_terms, dim=embedder.dense_dim, rng=rng)
    loaded = time.perf_counter() - started

    index = EdgeVectorIndex(path=tmp / "qdrant", collection="bench")
    index.ensure_collection(dense_dim=embedder.dense_dim, model_id=embedder.model_id)
    set_vector_index(index)
    started = time.perf_counter()
    result = drain(index=index)
    drained = time.perf_counter() - started
    assert result.synced == args.chunks == index.count(), result

    client = Client()
    user = users[0]
    client.force_login(user)
    queries = [" ".join(rng.sample(words, rng.randint(2, 4))) for _ in range(args.queries)]

    def engine(embedded):
        return index.query(
            query_filter=QueryFilter(owner_id=user.pk), dense=embedded["dense"],
            sparse_indices=embedded["sparse"]["indices"], sparse_values=embedded["sparse"]["values"],
            mode=SearchMode.HYBRID, limit=settings.SEARCH_DEFAULT_TOP_K,
            prefetch_limit=settings.SEARCH_PREFETCH_LIMIT, rrf_k=settings.SEARCH_RRF_K,
        )

    def floor(q):
        return engine(embedder.embed_query(q))

    def api(q):
        response = client.get("/api/search/", {"q": q})
        assert response.status_code == 200 and response.json()["count"] > 0, response.content[:200]

    timings = {"engine query only": [], "floor: embed query + engine": [], "search service": [], "API (test client)": []}
    for q in queries[:20]:  # warm-up: model sessions, connections, caches
        floor(q), api(q)
    for q in queries:
        embedded = embedder.embed_query(q)
        for name, call in (
            ("engine query only", lambda: engine(embedded)),
            ("floor: embed query + engine", lambda: floor(q)),
            ("search service", lambda: search(user=user, query=q)),
            ("API (test client)", lambda: api(q)),
        ):
            t0 = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - t0) * 1000)
    index.close()

    print(f"{args.chunks:,} chunks, {args.users} users ({args.chunks // args.users:,} chunks each), "
          f"{args.queries} queries, hybrid top {settings.SEARCH_DEFAULT_TOP_K}, prefetch {settings.SEARCH_PREFETCH_LIMIT}")
    print(f"load {loaded:.0f} s, drain {drained:.0f} s")
    print(f"{'path':<30}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, samples in timings.items():
        print(f"{name:<30}{percentile(samples, 50):>9.1f}{percentile(samples, 99):>9.1f}{statistics.mean(samples):>9.1f}")
    ratio = percentile(timings["API (test client)"], 50) / percentile(timings["floor: embed query + engine"], 50)
    print(f"API p50 / floor p50 = {ratio:.2f}x")


if __name__ == "__main__":
    main()
