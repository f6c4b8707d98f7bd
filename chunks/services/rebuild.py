"""Embedding chunks again from their text: the whole collection (`manage.py reindex`: a new
embedding model or new collection settings) or the chunks whose points a store lost
(`check_index --repair`). SYNCED chunks keep no vectors, so each is embedded again, staged PENDING,
and pushed by the outbox's drain. This is the expensive way back (the embedding floor, ~15 chunks/s
on 2 cores): a collection that still exists elsewhere is copied or imported (chunks.backup) instead."""
import time

from chunks.embedding import Embedder, get_embedder
from chunks.models import Chunk, SyncStatus, VectorDeletion
from chunks.outbox.drain import DrainResult, drain
from chunks.services.ingestion import stored_embedding_text
from chunks.vector_index import VectorIndex, get_vector_index


def reembed_chunks(*, chunks, embedder: Embedder | None = None, batch_size=256, progress=None) -> int:
    """Embed the chunks of the queryset again and stage them PENDING (due now); returns how many.
    `progress(n)` is called per embedded batch."""
    embedder = embedder or get_embedder()
    last_id, done = 0, 0
    while True:
        batch = list(chunks.filter(id__gt=last_id).order_by("id").only("id", "text", "metadata")[:batch_size])
        if not batch:
            return done
        texts = [stored_embedding_text(c) for c in batch]
        for chunk, embedded in zip(batch, embedder.embed_documents(texts)):
            chunk.dense_vector = embedded["dense"]
            chunk.sparse_indices = embedded["sparse"]["indices"]
            chunk.sparse_values = embedded["sparse"]["values"]
            chunk.sync_status = SyncStatus.PENDING
            chunk.sync_attempts, chunk.last_sync_error, chunk.next_attempt_at = 0, "", None
        Chunk.objects.bulk_update(
            batch,
            ["dense_vector", "sparse_indices", "sparse_values", "sync_status", "sync_attempts",
             "last_sync_error", "next_attempt_at"],
        )
        last_id = batch[-1].id
        done += len(batch)
        if progress:
            progress(len(batch))


def embedding_rate(*, embedder: Embedder | None = None, sample=32) -> float:
    """Chunks/s this machine embeds, measured on up to `sample` chunks' texts (nothing is written).
    With no chunks at all, 0."""
    embedder = embedder or get_embedder()
    chunks = list(Chunk.objects.order_by("-id").only("text", "metadata")[:sample])
    if not chunks:
        return 0.0
    texts = [stored_embedding_text(c) for c in chunks]
    embedder.embed_documents(texts[:2])  # the first call pays for warming up, not the rate
    started = time.perf_counter()
    embedder.embed_documents(texts)
    return len(texts) / max(time.perf_counter() - started, 1e-9)


def rebuild_collection(*, embedder: Embedder | None = None, index: VectorIndex | None = None, batch_size=256,
                       progress=None) -> DrainResult:
    """Recreate the collection, re-embed every chunk from its text (PENDING again) and drain.
    `progress(stage, n)` is called with ("embedded", n) per embedded batch and ("pushed", n)."""
    embedder = embedder or get_embedder()
    index = index or get_vector_index()
    index.drop_collection()
    index.ensure_collection(dense_dim=embedder.dense_dim, model_id=embedder.model_id)
    VectorDeletion.objects.all().delete()  # the new collection holds none of those points
    reembed_chunks(chunks=Chunk.objects.all(), embedder=embedder, batch_size=batch_size,
                   progress=(lambda n: progress("embedded", n)) if progress else None)
    return drain(index=index, progress=(lambda r: progress("pushed", r.synced)) if progress else None)
