"""Rebuilding the vector collection from Postgres, for a store that lost its data, a new embedding
model or new collection settings. SYNCED chunks keep no vectors, so every chunk is embedded again
from its text, staged PENDING, and pushed by the outbox's drain."""
from chunks.embedding import Embedder, get_embedder
from chunks.models import Chunk, SyncStatus, VectorDeletion
from chunks.outbox.drain import DrainResult, drain
from chunks.services.ingestion import embedding_text
from chunks.vector_index import VectorIndex, get_vector_index


def rebuild_collection(*, embedder: Embedder | None = None, index: VectorIndex | None = None, batch_size=256,
                       progress=None) -> DrainResult:
    """Recreate the collection, re-embed every chunk from its text (PENDING again) and drain.
    `progress(stage, n)` is called with ("embedded", n) per embedded batch and ("pushed", n)."""
    embedder = embedder or get_embedder()
    index = index or get_vector_index()
    index.drop_collection()
    index.ensure_collection(dense_dim=embedder.dense_dim, model_id=embedder.model_id)
    VectorDeletion.objects.all().delete()  # the new collection holds none of those points
    last_id = 0
    while True:
        batch = list(Chunk.objects.filter(id__gt=last_id).order_by("id").only("id", "text", "metadata")[:batch_size])
        if not batch:
            break
        texts = [embedding_text(c.metadata.get("title", ""), c.text) for c in batch]
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
        if progress:
            progress("embedded", len(batch))
    return drain(index=index, progress=(lambda r: progress("pushed", r.synced)) if progress else None)
