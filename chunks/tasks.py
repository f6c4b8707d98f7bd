"""django-q2 tasks of the chunks app (thin: the work is in the services and chunks.outbox)."""
import logging

from chunks.outbox.drain import drain
from chunks.outbox.wakeup import wake_owner
from chunks.services.ingestion import ingest_stored_document
from chunks.vector_index import uses_embedded_store

log = logging.getLogger(__name__)


def ingest_document(document_id, force=False):
    ingest_stored_document(document_id=document_id, force=force)


def drain_outbox() -> str:
    """Scheduled and triggered drain. In embedded mode a worker must not open the store (the
    serve process owns it), so it wakes the owner's drain thread instead."""
    if uses_embedded_store():
        wake_owner()
        return "embedded mode: woke the owner's drain thread"
    result = drain()
    return f"synced {result.synced}, deleted {result.deleted}, deferred {result.deferred}, failed {result.failed}"


def enqueue_drain() -> None:
    from django_q.tasks import async_task

    async_task("chunks.tasks.drain_outbox", task_name="outbox drain (triggered)")
