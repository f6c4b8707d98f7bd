#!/usr/bin/env python
"""ragbase benchmark harness (never part of the pytest suite).

    .venv/bin/python bench/run.py [--quick] [--sections drain quality latency ingestion drive load] [--sizes N ...]
                                  [--drive-docs N] [--dataset DIR]

Runs on its own throw-away embedded PostgreSQL and qdrant-edge store in a temp dir (env set before
django.setup(), see bench/outbox_drain.py). Prints one table and writes bench/results/<timestamp>.json
and .csv. --quick: 10 nfcorpus queries over their 330 judged documents and 10k synthetic chunks.
"""
import argparse
import csv
import json
import os
import platform
import random
import secrets
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import drive_sync  # noqa: E402
import pgvector_baseline  # noqa: E402
from outbox_drain import add_pending_chunks, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The development retrieval set, beside the repository (never shipped); --dataset names another.
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "nfcorpus"
RESULTS = Path(__file__).resolve().parent / "results"
DRAIN_RUNS = 3
QUERY_WORDS = ["sleep", "vitamin", "cancer", "diet", "heart", "protein", "fiber", "sugar", "blood", "brain"]
rows: list[tuple[str, str, str, float | str, str]] = []  # section, what, metric, value, unit


def record(section, what, metric, value, unit=""):
    rows.append((section, what, metric, round(value, 4) if isinstance(value, float) else value, unit))


def percentiles(samples_ms):
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def load_dataset(dataset, quick):
    """The BEIR test split: corpus (id → {"_id", "title", "text"}), queries and qrels; with `quick`,
    10 queries and their judged documents filled up to 300 with others."""
    from search.evaluation.beir import read_corpus, read_qrels, read_queries

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
    from chunks.embedding import get_embedder
    from chunks.models import Chunk, Document
    from chunks.outbox.drain import drain
    from search.evaluation.loading import load_corpus
    from search.evaluation.ranking import rank_documents
    from search.evaluation.scoring import evaluate_mode, score_runs

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


def synthetic_corpus(user, n, dim):  # baseline rows are added before the drain empties the vectors
    from django.db import connection

    from chunks.outbox.drain import drain

    add_pending_chunks(owner=user, source_id=f"synthetic-{n}", n=n, dim=dim)
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


def timed(what, calls):
    """Record p50/p95/p99 of running each of `calls` once, under latency/`what`."""
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    for k, v in percentiles(samples).items():
        record("latency", what, k, v, "ms")


def section_drain_and_storage(args):
    """Pre-embedded chunks drained on their own (first, while the chunk table is empty), and what
    a chunk costs Postgres while PENDING and after SYNCED. The drain is measured DRAIN_RUNS times
    (a fresh batch of chunks each) and the median reported: single runs drift with the host."""
    import outbox_drain
    from django.db import connection

    from chunks.vector_index.qdrant_edge import EdgeVectorIndex

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
    from django.test import Client

    from chunks.vector_index import ensure_index_ready
    from chunks.vector_index.base import QueryFilter, SearchMode
    from search.services import search

    rng = random.Random(1)
    queries = [" ".join(rng.sample(QUERY_WORDS, 3)) for _ in range(args.samples)]
    embedded = [embedder.embed_query(q) for q in queries]
    dim = len(embedded[0]["dense"])
    client = Client()
    client.force_login(user)

    def engine(e):
        return lambda: index.query(
            query_filter=QueryFilter(owner_id=user.pk), dense=e["dense"], sparse_indices=e["sparse"]["indices"],
            sparse_values=e["sparse"]["values"], mode=SearchMode.HYBRID, limit=10, prefetch_limit=100, rrf_k=60)

    def service_and_engine(label):
        timed(f"engine floor hybrid{label}", [engine(e) for e in embedded])
        timed(f"search service hybrid{label}", [lambda q=q: search(user=user, query=q, top_k=10) for q in queries])

    def api(label):
        responses = []
        timed(f"API hybrid{label}", [lambda q=q: responses.append(client.get("/api/search/", {"q": q})) for q in queries])
        record("latency", f"API status{label}", "non-200", sum(r.status_code != 200 for r in responses))

    total = 0
    for size in args.sizes:
        result, seconds = synthetic_corpus(user, size - total, dim)
        total = size
        record("drain", f"{result.synced} synthetic chunks", "chunks/s", result.synced / seconds, "chunks/s")
        index = ensure_index_ready()
        timed("query embedding", [lambda q=q: embedder.embed_query(q) for q in queries])
        service_and_engine(f" @{size}")
        api(f" @{size}")
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
            service_and_engine(f", after optimize_index @{size}")
            api(f", after optimize_index @{size}")


def section_ingestion(args, user, embedder):
    from chunks.models import Chunk
    from chunks.outbox.drain import drain
    from chunks.services.ingestion import IngestItem, ingest_batch

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


def section_drive(args):
    corpus, _, _ = load_dataset(args.dataset, False)
    drive_sync.section(record, corpus=corpus, documents=args.drive_docs)


def section_load(args, user):
    from django.db import connections
    from knox.models import AuthToken

    import load
    from chunks.vector_index import reset_vector_index

    token = AuthToken.objects.create(user=user)[1]
    reset_vector_index()  # the server process must own the embedded store
    connections.close_all()
    port = load.free_port()
    server = load.start_server(port, Path(os.environ["RAGBASE_VAR_DIR"]) / "serve.log")
    queries = [f"{a} {b}" for a in QUERY_WORDS for b in QUERY_WORDS if a != b]
    try:
        for clients in (20, 50):
            result = load.hammer(url=f"http://127.0.0.1:{port}/api/search/", token=token, queries=queries,
                                 clients=clients, seconds=args.load_seconds)
            what = f"{clients} clients x {args.load_seconds}s"
            record("load", what, "req/s", result["rps"], "req/s")
            record("load", what, "p50", result["p50"], "ms")
            record("load", what, "p99", result["p99"], "ms")
            record("load", what, "errors", result["errors"])
            record("load", what, "requests", result["requests"])
    finally:
        server.terminate()
        server.wait(30)


def plot_latency(rows, path):
    """p50 latency vs corpus size per layer (API, service, engine floor, pgvector); dashed with
    stars: the same layers measured again right after indexing (`optimize_index`)."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, dict[int, float]] = {}
    for section, what, metric, value, _ in rows:
        match = re.fullmatch(r"(.+) @(\d+)", what)
        if section == "latency" and metric == "p50" and match:
            series.setdefault(match[1], {})[int(match[2])] = value
    if not series:
        return
    colors = {"API hybrid": "tab:blue", "search service hybrid": "tab:orange",
              "engine floor hybrid": "tab:green", "pgvector hybrid": "tab:red"}
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, points in sorted(series.items()):
        sizes = sorted(points)
        base = name.split(",")[0]
        optimized = name != base
        ax.plot(sizes, [points[n] for n in sizes], color=colors.get(base, "tab:gray"),
                marker="*" if optimized else "o", markersize=12 if optimized else 6,
                linestyle="--" if optimized else "-",
                label=f"{base} (p50{', all indexed' if optimized else '' if 'pgvector' in base else ', newest chunks not yet indexed'})")
    ax.set_xlabel("chunks in the corpus (one user)")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("ragbase search latency vs corpus size (embedded mode, 2 cores)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def guarded(section, run):
    """A failing section is recorded in the table and the others still run."""
    print(f"[bench] {time.strftime('%H:%M:%S')} {section} ...", file=sys.stderr, flush=True)
    try:
        run()
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
        import traceback

        traceback.print_exc()
        record(section, "FAILED", "error", f"{type(error).__name__}: {error}"[:120])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plot", metavar="RESULTS_JSON", help="only redraw the plot from a results file")
    parser.add_argument("--sections", nargs="+", default=["drain", "quality", "latency", "ingestion", "drive", "load"])
    parser.add_argument("--drive-docs", type=int, help="Google Docs in the drive section's fake Drive (default 3000; --quick 300)")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                        help="a BEIR folder for the quality, ingestion and drive sections (default: ../shared/datasets/nfcorpus)")
    parser.add_argument("--sizes", type=int, nargs="+", help="latency corpus sizes (default 10k 50k 100k; --quick 10k)")
    args = parser.parse_args()
    if args.plot:
        plot_latency(json.loads(Path(args.plot).read_text())["rows"], RESULTS / "latency_vs_size.png")
        return
    args.sizes = args.sizes or ([10_000] if args.quick else [10_000, 50_000, 100_000])
    args.samples = 50 if args.quick else 200
    args.ingest_docs = 60 if args.quick else 300
    args.load_seconds = 10 if args.quick else 60
    args.drive_docs = args.drive_docs or (300 if args.quick else 3000)
    if {"quality", "ingestion", "drive"} & set(args.sections) and not (args.dataset / "corpus.jsonl").exists():
        parser.error(f"{args.dataset} is not a BEIR dataset folder (corpus.jsonl missing); name one with --dataset")
    tmp = Path(tempfile.mkdtemp(prefix="ragbase-bench-"))
    os.environ.setdefault("SEARCH_THROTTLE_RATE", "100000/min")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    # The bench talks plain http on loopback; with DEBUG off ragbase would redirect it to https.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("RAGBASE_ADMIN_PASSWORD", secrets.token_hex(16))  # serve creates the admin
    for name, value in drive_sync.SYNC_ENV.items():  # the drive section's workers read the same settings
        os.environ.setdefault(name, value)
    setup_django(tmp)
    from django.contrib.auth import get_user_model

    from chunks.embedding import get_embedder

    embedder = get_embedder()
    embedder.embed_query("warm up")
    users = get_user_model().objects
    started = time.perf_counter()
    if "drain" in args.sections:
        guarded("drain", lambda: section_drain_and_storage(args))
    if "quality" in args.sections:
        guarded("quality", lambda: section_quality(args, users.create_user("quality")))
    if "latency" in args.sections:
        guarded("latency", lambda: section_latency(args, users.create_user("latency"), embedder))
    if "ingestion" in args.sections:
        guarded("ingestion", lambda: section_ingestion(args, users.create_user("ingestion"), embedder))
    if "drive" in args.sections:
        guarded("drive", lambda: section_drive(args))
    if "load" in args.sections:  # last: it hands the embedded store to the server process
        guarded("load", lambda: section_load(args, users.get_or_create(username="latency")[0]))
    meta = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": args.quick,
        "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(), "seconds": round(time.perf_counter() - started, 1),
        "versions": {p: version(p) for p in ("django", "fastembed", "qdrant-edge-py", "pgserver", "djangorestframework")
                     if _has(p)},
    }
    width = max(len(r[1]) for r in rows)
    print(f"{'section':<10} {'what':<{width}} {'metric':<10} value")
    for section, what, metric, value, unit in rows:
        print(f"{section:<10} {what:<{width}} {metric:<10} {value} {unit}")
    print(json.dumps(meta))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    with (RESULTS / f"{stamp}.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("section", "what", "metric", "value", "unit"), *rows])
    guarded("plot", lambda: plot_latency(rows, RESULTS / "latency_vs_size.png"))


def _has(package):
    try:
        version(package)
        return True
    except Exception:
        return False


if __name__ == "__main__":
    main()
