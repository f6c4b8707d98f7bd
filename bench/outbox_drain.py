#!/usr/bin/env python
"""Benchmark the outbox drain in embedded mode and the Postgres storage a chunk costs.

    .venv/bin/python bench/outbox_drain.py [--chunks 20000] [--dim 384] [--batch-size 512]

Runs on its own throw-away embedded PostgreSQL and qdrant-edge store in a temp dir. Chunks are
pre-embedded (random vectors, ~60 sparse terms, ~700 characters of text) and inserted with SQL;
the drain is the real `chunks.outbox.drain.drain`. Storage is pg_total_relation_size of the chunk
table (heap + TOAST + indexes), after VACUUM FULL in both states so dead tuples don't count.

Run as a script, this module sets Django up itself (main), so the project's modules are imported
inside its functions; bench/run.py imports it after setting Django up.
"""
import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from environment import add_keep_files_option, scratch_folder, setup_django  # noqa: E402

INSERT_CHUNKS = """
INSERT INTO chunks_chunk (document_id, owner_id, ordinal, text, metadata, sync_status, dense_vector,
                          sparse_indices, sparse_values, qdrant_id, sync_attempts, last_sync_error,
                          created_at, updated_at)
SELECT (%(docs)s::bigint[])[(g - 1) %% cardinality(%(docs)s::bigint[]) + 1], %(owner)s, g,
       repeat('lorem ipsum dolor sit amet ', 26), '{}', 'PENDING',
       (SELECT string_agg(float4send(random()::real), ''::bytea) FROM generate_series(1, %(dim)s) WHERE g > 0),
       (SELECT string_agg(int4send(i), ''::bytea ORDER BY i)
          FROM (SELECT DISTINCT (random() * 100000)::int AS i FROM generate_series(1, 60) WHERE g > 0) terms),
       NULL, gen_random_uuid(), 0, '', now(), now()
  FROM generate_series(1, %(n)s) AS g
"""


VECTOR_BYTES = """SELECT coalesce(sum(coalesce(pg_column_size(dense_vector), 0) + coalesce(pg_column_size(sparse_indices), 0)
                          + coalesce(pg_column_size(sparse_values), 0)), 0) FROM chunks_chunk"""


def table_bytes(cursor) -> int:
    cursor.execute("VACUUM FULL chunks_chunk")
    cursor.execute("SELECT pg_total_relation_size('chunks_chunk')")
    return cursor.fetchone()[0]


def add_pending_chunks(*, owner, source_id, n, dim, documents=1):
    """`documents` documents of `owner` (ids `source_id`-0, -1, ...) sharing `n` pre-embedded PENDING
    chunks round-robin (random `dim`-d dense vectors, 60 random sparse terms with random weights,
    ~700 characters of text), inserted in SQL."""
    from django.db import connection

    from chunks.models import Document

    docs = Document.objects.bulk_create(
        [Document(owner=owner, source="upload", source_id=f"{source_id}-{i}", title=f"synthetic {i}")
         for i in range(documents)])
    with connection.cursor() as cursor:
        cursor.execute(INSERT_CHUNKS, {"docs": [doc.pk for doc in docs], "owner": owner.pk, "dim": dim, "n": n})
        cursor.execute(
            "UPDATE chunks_chunk SET sparse_values = (SELECT string_agg(float4send(random()::real), ''::bytea)"
            " FROM generate_series(1, length(sparse_indices) / 4)) WHERE sparse_values IS NULL"
        )


def engine_floor(*, points, dim, batch_size, folder) -> float:
    """Points/s of the engine alone: the same number of points, already in memory as the arrays
    the drain hands over, upserted batch by batch through EdgeVectorIndex (the only way into the
    engine) into a fresh collection. What the drain adds is Postgres (claim, mark SYNCED) and
    unpacking."""
    from chunks.vector_index import VectorPoint
    from chunks.vector_index.qdrant_edge import EdgeVectorIndex

    rng = random.Random(0)
    payload = {"owner_id": "1", "document_id": 1, "source": "upload", "mime_type": "text/plain", "modified_at": 0.0}
    batch = [
        VectorPoint(id=str(uuid.uuid4()), dense=array("f", [rng.random() for _ in range(dim)]),
                    sparse_indices=array("I", sorted(rng.sample(range(100_000), 60))),
                    sparse_values=array("f", [rng.random() for _ in range(60)]), payload=payload)
        for _ in range(points)
    ]
    index = EdgeVectorIndex(path=tempfile.mkdtemp(prefix="engine-floor-", dir=folder), collection="floor")
    index.ensure_collection(dense_dim=dim, model_id="bench")
    try:
        started = time.perf_counter()
        for start in range(0, points, batch_size):
            index.upsert(batch[start:start + batch_size])
        return points / (time.perf_counter() - started)
    finally:
        index.close()


def measure(*, chunks, dim, batch_size=512, threads=None, index, profile=False) -> dict:
    """Insert `chunks` pre-embedded PENDING chunks for a new owner, drain them into `index`
    (ensured) and measure the rate and the chunk table's bytes per chunk in both states. Needs an
    otherwise empty chunk table (bytes are per chunk of the whole table)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from chunks.outbox.drain import drain, settle_long_lived_objects

    owner = get_user_model().objects.create_user(f"drain-bench-{time.monotonic_ns()}")
    add_pending_chunks(owner=owner, source_id="bench", n=chunks, dim=dim)
    with connection.cursor() as cursor:
        pending_total = table_bytes(cursor)
        cursor.execute(VECTOR_BYTES)
        pending_vectors = cursor.fetchone()[0]
    settle_long_lived_objects()  # as `serve` and `sync_qdrant` do before they drain
    started = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(drain, batch_size=batch_size, index=index, threads=1)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    else:
        result = drain(batch_size=batch_size, index=index, threads=threads)
    elapsed = time.perf_counter() - started
    assert result.synced == chunks, result
    with connection.cursor() as cursor:
        synced_total = table_bytes(cursor)
        cursor.execute(VECTOR_BYTES)
        synced_vectors = cursor.fetchone()[0]
    floor = engine_floor(points=chunks, dim=dim, batch_size=batch_size, folder=Path(index.folder).parent)
    return {
        "seconds": elapsed, "rate": chunks / elapsed, "engine_floor": floor,
        "pending_bytes": pending_total / chunks, "synced_bytes": synced_total / chunks,
        "pending_vector_bytes": pending_vectors / chunks, "synced_vector_bytes": synced_vectors / chunks,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=None, help="drain loops (default OUTBOX_DRAIN_THREADS)")
    add_keep_files_option(parser)
    args = parser.parse_args()
    tmp = scratch_folder("ragbase-bench-", keep=args.keep_files)
    setup_django(tmp)
    from django.conf import settings

    from chunks.vector_index.qdrant_edge import EdgeVectorIndex

    index = EdgeVectorIndex(path=tmp / "qdrant", collection="bench")
    index.ensure_collection(dense_dim=args.dim, model_id="bench")
    m = measure(chunks=args.chunks, dim=args.dim, batch_size=args.batch_size, threads=args.threads, index=index,
                profile=bool(os.environ.get("BENCH_PROFILE")))
    index.close()
    rows = [
        ("chunks drained", f"{args.chunks:,}"),
        ("dense dim / sparse terms", f"{args.dim} / 60"),
        ("batch size / drain threads", f"{args.batch_size} / {args.threads or settings.OUTBOX_DRAIN_THREADS}"),
        ("drain time", f"{m['seconds']:.2f} s"),
        ("drain rate (embedded, qdrant-edge)", f"{m['rate']:,.0f} chunks/s"),
        ("engine floor (same points, in memory)", f"{m['engine_floor']:,.0f} points/s"),
        ("drain / engine floor", f"{m['rate'] / m['engine_floor']:.2f}"),
        ("chunk table PENDING (heap+TOAST+idx)", f"{m['pending_bytes']:,.0f} B/chunk"),
        ("chunk table SYNCED (heap+TOAST+idx)", f"{m['synced_bytes']:,.0f} B/chunk"),
        ("vector columns PENDING / SYNCED", f"{m['pending_vector_bytes']:,.0f} / {m['synced_vector_bytes']:,.0f} B/chunk"),
        ("saving on the whole row", f"{100 * (1 - m['synced_bytes'] / m['pending_bytes']):.1f} %"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 20}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
