"""Operator views of the outbox: health at a glance, retrying FAILED chunks, and rebuilding the
vector store from Postgres (re-embedding chunk text, since SYNCED chunks no longer keep vectors)."""
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from chunks.models import Chunk, SyncStatus, VectorDeletion
from chunks.outbox import drain


@dataclass(frozen=True)
class OutboxHealth:
    counts: dict  # sync_status -> chunks
    oldest_pending_age_seconds: float | None
    last_error: str
    deletions_pending: int
    deletions_failed: int

    @property
    def pending(self) -> int:
        return self.counts.get(SyncStatus.PENDING, 0)


def outbox_health() -> OutboxHealth:
    counts = {status: 0 for status in SyncStatus.values}
    counts.update(dict(Chunk.objects.values_list("sync_status").annotate(n=Count("id")).order_by()))
    oldest = Chunk.objects.filter(sync_status=SyncStatus.PENDING).aggregate(t=Min("created_at"))["t"]
    with_error = (
        Chunk.objects.exclude(last_sync_error="").exclude(sync_status=SyncStatus.SYNCED).order_by("-updated_at").first()
    )
    deletions = VectorDeletion.objects.aggregate(
        pending=Count("id", filter=Q(failed=False)), failed=Count("id", filter=Q(failed=True))
    )
    return OutboxHealth(
        counts=counts,
        oldest_pending_age_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
        last_error=with_error.last_sync_error if with_error else "",
        deletions_pending=deletions["pending"],
        deletions_failed=deletions["failed"],
    )


def retry_failed(*, chunks) -> int:
    """Put FAILED chunks of the queryset back in the queue, due now. Returns how many."""
    from chunks.signals import outbox_has_work

    count = chunks.filter(sync_status=SyncStatus.FAILED).update(
        sync_status=SyncStatus.PENDING, sync_attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    if count:
        transaction.on_commit(lambda: outbox_has_work.send(sender=Chunk))
    return count


def reindex(*, embedder=None, index=None, batch_size=256, progress=None):
    """Recreate the collection, re-embed every chunk from its text (PENDING again) and drain.
    `progress(stage, n)` is called with ("embedded", n) per embedded batch and ("pushed", n)."""
    from chunks.services.ingestion import embedding_text
    from chunks.vector_index import get_vector_index

    if embedder is None:
        from chunks.embedding import get_embedder

        embedder = get_embedder()
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
