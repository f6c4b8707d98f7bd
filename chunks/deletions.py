"""Removing chunks goes through the outbox: each removed chunk leaves a VectorDeletion row in
the same transaction, so the vector store loses the point even if it is down right now, and
search (which reads hits back from Postgres) never shows a removed chunk in the meantime."""
from django.db import transaction

from chunks.models import Chunk, Document, VectorDeletion


def delete_chunks(*, chunks) -> int:
    """Delete the given Chunk queryset and queue its points for deletion. Returns the count."""
    with transaction.atomic():
        rows = list(chunks.select_for_update().values_list("qdrant_id", "owner_id", "document_id"))
        VectorDeletion.objects.bulk_create(
            [VectorDeletion(qdrant_id=q, owner_id=o, document_id=d) for q, o, d in rows],
            ignore_conflicts=True,
        )
        Chunk.objects.filter(qdrant_id__in=[q for q, _, _ in rows]).delete()
    return len(rows)


def delete_document(*, document: Document) -> None:
    """Delete a document and its chunks (their points through the outbox); its stored upload goes
    once this commits (chunks.uploads.delete_file_of_deleted_document)."""
    with transaction.atomic():
        delete_chunks(chunks=Chunk.objects.filter(document=document))
        document.delete()
