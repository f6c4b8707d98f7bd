"""What enters the outbox besides ingestion's PENDING chunks: removals and retries.

Removing chunks leaves a VectorDeletion row per chunk in the same transaction, so the vector
store loses the point even if it is down right now, and search (which reads hits back from
Postgres) never shows a removed chunk in the meantime. Each change wakes the drain once it has
committed (`notify`), so a user's delete or a Drive disconnect is pushed within seconds.
"""
from django.db import transaction
from django.utils import timezone

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.outbox.wakeup import notify


def delete_chunks(*, chunks) -> int:
    """Delete the given Chunk queryset and queue its points for deletion. Returns the count."""
    with transaction.atomic():
        rows = list(chunks.select_for_update().values_list("qdrant_id", "owner_id", "document_id"))
        VectorDeletion.objects.bulk_create(
            [VectorDeletion(qdrant_id=q, owner_id=o, document_id=d) for q, o, d in rows],
            ignore_conflicts=True,
        )
        Chunk.objects.filter(qdrant_id__in=[q for q, _, _ in rows]).delete()
        if rows:
            notify()
    return len(rows)


def delete_document(*, document: Document) -> None:
    """Delete a document and its chunks (their points through the outbox); its stored upload goes
    once this commits (chunks.storage.delete_file_of_deleted_document)."""
    delete_documents(documents=Document.objects.filter(pk=document.pk))


def delete_documents(*, documents) -> int:
    """delete_document for every document of the queryset, in one transaction. Returns how many."""
    with transaction.atomic():
        delete_chunks(chunks=Chunk.objects.filter(document__in=documents))
        _, deleted = documents.delete()
    return deleted.get(Document._meta.label, 0)


def requeue_failed(*, chunks) -> int:
    """Put the FAILED chunks of the queryset back in the queue, due now. Returns how many."""
    count = chunks.filter(sync_status=SyncStatus.FAILED).update(
        sync_status=SyncStatus.PENDING, sync_attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    if count:
        notify()
    return count
