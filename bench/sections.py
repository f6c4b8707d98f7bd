"""The sections of bench/run.py (imported once Django is set up: they use the project's modules).
Each records its figures with table.record."""
import os
import random
import resource
import time
from pathlib import Path

import drive_sync
import load
import outbox_drain
import pgvector_baseline
from django.conf import settings
from django.db import connection
from django.test import Client
from floor import search_floor
from table import record, timed

from chunks.embedding import get_embedder
from chunks.models import Chunk, Document
from chunks.outbox.drain import drain
from chunks.services.ingestion import IngestItem, ingest_batch
from chunks.vector_index import QueryFilter, SearchMode, ensure_index_ready, reset_vector_index
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from search.evaluation.beir import read_corpus, read_qrels, read_queries
from search.evaluation.loading import load_corpus
from search.evaluation.ranking import rank_documents
from search.evaluation.scoring import evaluate_mode, score_runs
from search.services import default_fusion, search

DRAIN_RUNS = 3
# The latency corpus is many documents (50k chunks: 1,000), so a grouped search has documents to
# group: its 100 fused chunks come from ~100 documents, as in a real library.
LATENCY_CHUNKS_PER_DOCUMENT = 50
QUERY_WORDS = ["sleep", "vitamin", "cancer", "diet", "heart", "protein", "fiber", "sugar", "blood", "brain"]


def load_dataset(dataset, quick):
    """The BEIR test split: corpus (id → {"_id", "title", "text"}), queries and qrels; with `quick`,
    10 queries and their judged documents filled up to 300 with others."""
    corpus = {doc_id: {"_id": doc_id, "title": title, "text": text} for doc_id, title, text in read_corpus(dataset)}
    queries = read_queries(dataset)
    qrels = read_qrels(dataset, "test")
    if quick:
        picked = list(qrels)[:10]  # their judged documents alone are 330
        qrels = {q: qrels[q] for q in picked}
        keep = {d for q in picked for d in qrels[q] if d in corpus}
        others = sorted(set(corpus) - keep)
        random.Random(0).shuffle(others)
        keep |= set(others[: max(0, 300 - len(keep))])
        corpus = {d: corpus[d] for d in keep}
    return corpus, {q: queries[q] for q in qrels}, qrels


def section_quality(args, user):
    corpus, queries, qrels = load_dataset(args.dataset, args.quick)
    record("quality", "corpus", "documents", len(corpus))
    record("quality", "corpus", "queries", len(queries))
    started = time.perf_counter()
    load_corpus(rows=((d["_id"], d["title"], d["text"]) for d in corpus.values()), owner=user)
    ingest_s = time.perf_counter() - started
    baseline_started = time.perf_counter()
    pgvector_baseline.build(owner_id=user.pk, dim=len(get_embedder().embed_query("x")["dense"]))
    record("quality", "pgvector table build", "seconds", time.perf_counter() - baseline_started, "s")
    started += time.perf_counter() - baseline_started
    drain()
    record("quality", "ingest_batch+drain", "docs/s", len(corpus) / (time.perf_counter() - started), "docs/s")
    record("quality", "ingest_batch only", "seconds", ingest_s, "s")
    for mode in ("hybrid", "dense", "sparse"):
        _record_scores(f"ragbase {mode}", evaluate_mode(user=user, queries=queries, qrels=qrels, mode=mode))
    embedder = get_embedder()
    beir_id = dict(Document.objects.filter(owner=user).values_list("pk", "source_id"))
    chunk_doc = dict(Chunk.objects.filter(owner=user).values_list("pk", "document_id"))
    run, started = {}, time.perf_counter()
    for qid, text in queries.items():
        hits = pgvector_baseline.query(owner_id=user.pk, text=text, dense=embedder.embed_query(text)["dense"], limit=100)
        run[qid] = rank_documents(beir_id[chunk_doc[chunk_id]] for chunk_id, _ in hits)
    _record_scores("pgvector+tsvector RRF", score_runs(run, qrels, mode="pgvector", seconds=time.perf_counter() - started))


def _record_scores(name, scores):
    record("quality", name, "nDCG@10", scores.ndcg_at_10)
    record("quality", name, "Recall@100", scores.recall_at_100)
    record("quality", name, "MRR@10", scores.mrr_at_10)


def synthetic_corpus(user, n, dim, *, name):  # baseline rows are added before the drain empties the vectors
    outbox_drain.add_pending_chunks(owner=user, source_id=name, n=n, dim=dim,
                                    documents=max(1, n // LATENCY_CHUNKS_PER_DOCUMENT))
    table_bytes, rows_n = pgvector_baseline.build(owner_id=user.pk, dim=dim)
    record("storage", f"pgvector table @{rows_n}", "bytes/chunk", table_bytes / rows_n, "B")
    started = time.perf_counter()
    result = drain(batch_size=512)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        # Measure search in the steady state autovacuum reaches a little later (dead row versions
        # left by the drain gone, planner statistics current).
        cursor.execute("VACUUM ANALYZE chunks_chunk")
    return result, seconds


def section_drain_and_storage(args):
    """Pre-embedded chunks drained on their own (first, while the chunk table is empty), and what
    a chunk costs Postgres while PENDING and after SYNCED. The drain is measured DRAIN_RUNS times
    (a fresh batch of chunks each) and the median reported: single runs drift with the host."""
    n = 5_000 if args.quick else 20_000
    index = EdgeVectorIndex(path=Path(os.environ["RAGBASE_VAR_DIR"]) / "drain-bench", collection="drain")
    index.ensure_collection(dense_dim=384, model_id="bench")
    runs = []
    try:
        for _ in range(DRAIN_RUNS):
            runs.append(outbox_drain.measure(chunks=n, dim=384, index=index))
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM chunks_chunk")  # bytes per chunk need an empty table
    finally:
        index.close()
    runs_by_rate = sorted(runs, key=lambda m: m["rate"])
    median = runs_by_rate[len(runs) // 2]
    record("drain", f"{n} pre-embedded 384-d chunks, median of {len(runs)} "
           f"(range {runs_by_rate[0]['rate']:,.0f}-{runs_by_rate[-1]['rate']:,.0f})",
           "chunks/s", median["rate"], "chunks/s")
    record("drain", "engine floor: same points from memory (that run)", "points/s", median["engine_floor"], "points/s")
    record("drain", "drain / engine floor (that run)", "ratio", median["rate"] / median["engine_floor"], "x")
    m = runs[0]
    record("storage", "chunk table PENDING (heap+TOAST+idx)", "bytes/chunk", m["pending_bytes"], "B")
    record("storage", "chunk table SYNCED (heap+TOAST+idx)", "bytes/chunk", m["synced_bytes"], "B")
    record("storage", "vector columns PENDING -> SYNCED", "bytes/chunk",
           f"{m['pending_vector_bytes']:.0f} -> {m['synced_vector_bytes']:.0f}", "B")


def section_latency(args, user, embedder):
    rng = random.Random(1)
    queries = [" ".join(rng.sample(QUERY_WORDS, 3)) for _ in range(args.samples)]
    embedded = [embedder.embed_query(q) for q in queries]
    dim = len(embedded[0]["dense"])
    client = Client()
    client.force_login(user)

    def engine(e, **options):
        return lambda: index.query(
            query_filter=QueryFilter(owner_id=user.pk), dense=e["dense"], sparse_indices=e["sparse"]["indices"],
            sparse_values=e["sparse"]["values"], mode=SearchMode.HYBRID, prefetch_limit=settings.SEARCH_PREFETCH_LIMIT, fusion=default_fusion(),
            **{"limit": 10, **options})

    def service_and_engine(label):
        floor = timed(f"engine floor hybrid{label}", [engine(e) for e in embedded])["p50"]
        # What a grouped search asks: SEARCH_GROUP_DEPTH fused chunks, with each leg's ranks (the
        # two legs queried in one batch and merged by fuse_legs), beside the engine's own fused query.
        timed(f"engine hybrid 100{label}", [engine(e, limit=100) for e in embedded])
        timed(f"engine hybrid 100 + leg ranks{label}", [engine(e, limit=100, leg_ranks=True) for e in embedded])
        timed(f"search service hybrid{label}", [lambda q=q: search(user=user, query=q, top_k=10) for q in queries])
        return floor

    def api(label, apart):
        """The API grouped (the default) and group=none, each as a ratio to the floor of this run
        (bench/floor.py: each query embedded, then the engine's hybrid top 10); `apart`: the same
        two measured in separate loops."""
        responses = []
        floor = search_floor(user, queries)
        record("latency", f"floor: query embedding, then engine hybrid{label}", "p50", floor["floor"], "ms")
        record("latency", f"floor: engine hybrid right after the embedding{label}", "p50", floor["engine"], "ms")
        record("latency", f"query embedding + engine floor hybrid, timed apart{label}", "p50", apart, "ms")
        for name, params in (("", {}), (" group=none", {"group": "none"})):
            p50 = timed(f"API hybrid{name}{label}",
                        [lambda q=q: responses.append(client.get("/api/search/", {"q": q, **params})) for q in queries])["p50"]
            record("latency", f"API hybrid{name or ' grouped'} / floor{label}", "ratio", p50 / floor["floor"], "x")
        record("latency", f"API status{label}", "non-200", sum(r.status_code != 200 for r in responses))
        groups = {len(r.json()["results"]) for r in responses[:len(queries)]}
        record("latency", f"API grouped: documents per page{label}", "min-max", f"{min(groups)}-{max(groups)}")

    total = 0
    for size in args.sizes:
        result, seconds = synthetic_corpus(user, size - total, dim, name=f"synthetic-{total}")
        total = size
        record("drain", f"{result.synced} synthetic chunks", "chunks/s", result.synced / seconds, "chunks/s")
        index = ensure_index_ready()
        embedding = timed(f"query embedding @{size}", [lambda q=q: embedder.embed_query(q) for q in queries])["p50"]
        api(f" @{size}", embedding + service_and_engine(f" @{size}"))
        timed(f"pgvector hybrid @{size}", [
            lambda q=q, e=e: pgvector_baseline.query(owner_id=user.pk, text=q, dense=e["dense"])
            for q, e in zip(queries, embedded)
        ])
        if not args.quick:
            # What `serve` does at start (or `optimize_index`): HNSW over everything pushed so far.
            # The next size's new chunks then wait in an unindexed segment, as they would while serving.
            started = time.perf_counter()
            index.optimize()
            record("latency", f"optimize_index @{size}", "seconds", time.perf_counter() - started, "s")
            label = f", after optimize_index @{size}"
            engine_floor = service_and_engine(label)
            embedding = timed(f"query embedding{label}", [lambda q=q: embedder.embed_query(q) for q in queries])["p50"]
            api(label, embedding + engine_floor)


def section_ingestion(args, user, embedder):
    corpus, _, _ = load_dataset(args.dataset, True)
    docs = list(corpus.values())[: args.ingest_docs]
    started = time.perf_counter()
    ingest_batch(items=[IngestItem(owner=user, source="upload", source_id="ing-" + d["_id"], title=d.get("title", ""),
                                   mime_type="text/plain", content=d["text"].encode()) for d in docs])
    drain()
    e2e = time.perf_counter() - started
    chunks = list(Chunk.objects.filter(owner=user).select_related("document").order_by("pk"))
    texts = [f"{c.document.title}\n{c.text}" for c in chunks]
    started = time.perf_counter()
    embedder.embed_documents(texts)
    raw = time.perf_counter() - started
    record("ingestion", f"{len(chunks)} chunks end-to-end", "chunks/s", len(chunks) / e2e, "chunks/s")
    record("ingestion", f"{len(chunks)} chunks raw fastembed", "chunks/s", len(chunks) / raw, "chunks/s")
    record("ingestion", "end-to-end / raw", "ratio", raw / e2e)
    record("ingestion", "peak RSS", "MiB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")


def section_rechunk(args, user, embedder):
    """`manage.py rechunk`'s work on stored Markdown uploads chunked before heading paths were
    recorded: documents/s and chunks/s, as a ratio to raw fastembed on the same texts (the floor);
    then a second run, which finds every document unchanged and embeds nothing."""
    from django.core.files.base import ContentFile

    from chunks.services.ingestion import embedding_text, ingest_content
    from chunks.services.rechunk import rechunk, select_documents

    corpus, _, _ = load_dataset(args.dataset, True)
    docs = list(corpus.values())[: args.ingest_docs]
    for d in docs:
        content = f"# {d.get('title') or d['_id']}\n\n{d['text']}\n".encode()
        document = ingest_content(owner=user, source="upload", source_id="re-" + d["_id"], title=d["_id"],
                                  mime_type="text/markdown", content=content)
        document.file.save(f"{d['_id']}.md", ContentFile(content))
    chunks = Chunk.objects.filter(owner=user)
    for chunk in chunks:  # as chunked before heading paths: none recorded
        chunk.metadata.pop("headings", None)
    Chunk.objects.bulk_update(chunks, ["metadata"])
    documents = select_documents(usernames=[user.username], lacking_headings=True)
    started = time.perf_counter()
    outcomes = list(rechunk(documents=documents, embedder=embedder))
    seconds = time.perf_counter() - started
    embedded = sum(o.chunks for o in outcomes if o.status == "rechunked")
    texts = [embedding_text(c.metadata["title"], c.text, c.metadata["headings"]) for c in Chunk.objects.filter(owner=user)]
    started = time.perf_counter()
    embedder.embed_documents(texts)
    raw = time.perf_counter() - started
    record("rechunk", f"{len(outcomes)} documents, {embedded} chunks", "docs/s", len(outcomes) / seconds, "docs/s")
    record("rechunk", f"{embedded} chunks re-chunked", "chunks/s", embedded / seconds, "chunks/s")
    record("rechunk", f"{len(texts)} chunks raw fastembed", "chunks/s", len(texts) / raw, "chunks/s")
    record("rechunk", "re-chunk / raw", "ratio", (embedded / seconds) / (len(texts) / raw))
    started = time.perf_counter()
    again = list(rechunk(documents=select_documents(usernames=[user.username]), embedder=embedder))
    record("rechunk", f"second run, {sum(o.status == 'unchanged' for o in again)} unchanged", "docs/s",
           len(again) / (time.perf_counter() - started), "docs/s")


def section_drive(args):
    corpus, _, _ = load_dataset(args.dataset, False)
    drive_sync.section(record, corpus=corpus, documents=args.drive_docs)


def load_queries() -> list[str]:
    """The load section's queries: 200 pairs of words its synthetic chunks hold."""
    rng = random.Random(2)
    return [" ".join(rng.sample(QUERY_WORDS, 2)) for _ in range(200)]


def add_load_chunks(user, n):
    """n synthetic chunks of `user`, drained into the store (the load section's corpus)."""
    synthetic_corpus(user, n, dim=len(get_embedder().embed_query("x")["dense"]), name=f"load-{n}")


def section_load(args):
    reset_vector_index()
    load.section(record, add_chunks=add_load_chunks, sizes=[10_000] if args.quick else [10_000, 50_000],
                 seconds=args.load_seconds, soak_requests=args.soak_requests, thread_counts=args.load_threads,
                 log_dir=Path(os.environ["RAGBASE_VAR_DIR"]), queries=load_queries())
