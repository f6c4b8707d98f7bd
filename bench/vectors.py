"""The `vectors` section of bench/run.py: what bringing a store back costs, without and with
embedding. Pre-embedded synthetic chunks (bench/outbox_drain.py's add_pending_chunks: 384-d
random dense vectors, 60 sparse terms, spread over documents) are drained into a fresh embedded
store (the drain rate: the floor the import is compared with, same run), exported to a vector
file, imported into another fresh embedded store, and checked against Postgres (check_index).
Re-embedding (`reindex`) is measured on a sample of chunk texts with the real embedder and
extrapolated: at its rate a 50k run would take over an hour."""
import os
import time
from pathlib import Path

import outbox_drain
from django.contrib.auth import get_user_model
from django.db import connection

from chunks.backup.transfer import export_vectors, import_vectors
from chunks.embedding import get_embedder
from chunks.models import Chunk
from chunks.outbox.drain import drain, settle_long_lived_objects
from chunks.services.index_check import check_index
from chunks.services.rebuild import embedding_rate
from chunks.vector_index.qdrant_edge import EdgeVectorIndex

DIM = 384
CHUNKS_PER_DOCUMENT = 500
REINDEX_SAMPLE = 64


def _store(name):
    index = EdgeVectorIndex(path=Path(os.environ["RAGBASE_VAR_DIR"]) / name, collection="vectors")
    index.ensure_collection(dense_dim=DIM, model_id="bench")
    return index


def _rate(n, run):
    started = time.perf_counter()
    result = run()
    return result, n / (time.perf_counter() - started)


def section(record, *, chunks):
    owner = get_user_model().objects.create_user(f"vectors-bench-{time.monotonic_ns()}")
    outbox_drain.add_pending_chunks(owner=owner, source_id="vectors", n=chunks, dim=DIM,
                                    documents=-(-chunks // CHUNKS_PER_DOCUMENT))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE chunks_chunk")
    source, target = _store("vectors-source"), _store("vectors-target")
    path = Path(os.environ["RAGBASE_VAR_DIR"]) / "vectors.rbv"
    try:
        settle_long_lived_objects()
        drained, drain_rate = _rate(chunks, lambda: drain(index=source))
        assert drained.synced == chunks, drained
        exported, export_rate = _rate(chunks, lambda: export_vectors(index=source, path=path))
        spec = {"dense_dim": DIM, "model_id": "bench"}
        imported, import_rate = _rate(chunks, lambda: import_vectors(index=target, path=path, expected=spec))
        report, check_rate = _rate(chunks, lambda: check_index(index=target))
        assert exported.points == imported.points == chunks and report.ok, report.summary()
        # What reindex pays per chunk: embedding its text with the real models (the drain after it
        # is the cheap part); the synthetic texts are ~180 tokens, like real chunks.
        reindex_rate = embedding_rate(embedder=get_embedder(), sample=REINDEX_SAMPLE)
        size = path.stat().st_size
    finally:
        source.close()
        target.close()
        path.unlink(missing_ok=True)
        Chunk.objects.filter(owner=owner).delete()
    what = f"{chunks} pre-embedded {DIM}-d chunks"
    record("vectors", f"drain (floor, same run), {what}", "chunks/s", drain_rate, "chunks/s")
    record("vectors", "export_vectors", "chunks/s", export_rate, "chunks/s")
    record("vectors", "import_vectors into a fresh embedded store", "chunks/s", import_rate, "chunks/s")
    record("vectors", "import / drain (goal >= 0.8)", "ratio", import_rate / drain_rate, "x")
    record("vectors", "check_index (full: ids and payloads)", "chunks/s", check_rate, "chunks/s")
    record("vectors", f"reindex: embedding, sample of {REINDEX_SAMPLE} chunks, extrapolated", "chunks/s",
           reindex_rate, "chunks/s")
    record("vectors", "import / reindex (goal >= 200)", "ratio", import_rate / reindex_rate, "x")
    record("vectors", f"reindex of the {chunks} chunks (extrapolated)", "seconds", chunks / reindex_rate, "s")
    record("vectors", "vector file", "bytes/chunk", size / chunks, "B")

