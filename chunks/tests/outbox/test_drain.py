"""The outbox drain on real Postgres and both vector store backends."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain
from chunks.outbox.enqueue import delete_document
from chunks.tests.outbox.faulty_index import FlakyIndex, RejectingIndex, SimulatedCrash, stored_ids
from chunks.vector_index import QueryFilter
from ragbase.testing import ensured, make_chunks


@pytest.fixture
def fast_retries(settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 3
    return settings


def chunk_ids():
    return {str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}


@pytest.mark.django_db
def test_pending_chunks_become_synced_with_vectors_null_and_payload_in_the_store(vector_index_backend):
    index = ensured(vector_index_backend)
    (doc,) = make_chunks(25)
    modified = datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)
    Document.objects.filter(pk=doc.pk).update(modified_at=modified)
    result = drain(batch_size=10, index=index)
    assert result.synced == 25 and result.batches == 3
    assert set(Chunk.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert not Chunk.objects.filter(dense_vector__isnull=False).exists()
    assert not Chunk.objects.filter(sparse_indices__isnull=False).exists()
    assert not Chunk.objects.filter(synced_at__isnull=True).exists()
    assert stored_ids(index) == chunk_ids()
    assert index.count(QueryFilter(owner_id=doc.owner_id, document_ids=[doc.pk], sources=["upload"],
                                   mime_types=["text/plain"])) == 25
    assert index.count(QueryFilter(owner_id=doc.owner_id + 1)) == 0
    second = timedelta(seconds=1)
    assert index.count(QueryFilter(owner_id=doc.owner_id, modified_after=modified - second)) == 25
    assert index.count(QueryFilter(owner_id=doc.owner_id, modified_after=modified + second)) == 0
    assert drain(index=index).synced == 0


@pytest.mark.django_db
def test_a_drain_asked_to_stop_finishes_its_batch_and_takes_no_other(vector_index):
    """What the web server's shutdown relies on: stop between batches, never inside one."""
    index = ensured(vector_index)
    make_chunks(50)
    stopping = threading.Event()
    result = drain(batch_size=10, index=index, stopping=stopping, progress=lambda _: stopping.set())
    assert result.synced == 10 and result.batches == 1
    assert Chunk.objects.filter(sync_status=SyncStatus.PENDING).count() == 50 - result.synced
    assert drain(index=index).synced == 50 - result.synced


@pytest.mark.django_db
def test_deleted_documents_leave_the_store(vector_index_backend):
    index = ensured(vector_index_backend)
    keep, gone = make_chunks(10, documents=2)
    drain(index=index)
    delete_document(document=gone)
    assert VectorDeletion.objects.count() == 5
    result = drain(index=index)
    assert result.deleted == 5 and not VectorDeletion.objects.exists()
    assert stored_ids(index) == chunk_ids() and len(chunk_ids()) == 5


@pytest.mark.django_db
def test_a_store_outage_mid_drain_defers_chunks_then_all_sync_none_lost(vector_index, fast_retries):
    index = FlakyIndex(ensured(vector_index))
    make_chunks(40)
    index.outage_rate = 1.0
    first = drain(batch_size=10, index=index)
    assert first.store_unavailable and first.synced == 0 and first.deferred == 10
    waiting = Chunk.objects.filter(sync_attempts=1)
    assert waiting.count() == 10 and "down" in waiting.first().last_sync_error
    assert not Chunk.objects.filter(sync_status=SyncStatus.FAILED).exists()
    # Still down on later runs: chunks keep waiting and are never failed for an outage.
    for _ in range(5):
        drain(batch_size=10, index=index)
    assert not Chunk.objects.filter(sync_status=SyncStatus.FAILED).exists()
    index.down, index.outage_rate = False, 0.0
    assert drain(batch_size=10, index=index).synced == 40
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 40
    assert stored_ids(index) == chunk_ids()


@pytest.mark.django_db
def test_backoff_schedules_the_next_attempt_in_the_future(vector_index, settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 60
    index = FlakyIndex(ensured(vector_index), outage_rate=1.0)
    make_chunks(3)
    drain(index=index)
    index.down, index.outage_rate = False, 0.0
    assert drain(index=index).synced == 0  # not due yet
    chunk = Chunk.objects.first()
    assert chunk.sync_status == SyncStatus.PENDING and chunk.next_attempt_at > chunk.updated_at


@pytest.mark.django_db
def test_one_bad_chunk_is_isolated_and_fails_after_max_attempts_with_the_reason(vector_index_backend, fast_retries):
    make_chunks(16)
    bad = str(Chunk.objects.order_by("id")[5].qdrant_id)
    index = RejectingIndex(ensured(vector_index_backend), bad_ids=[bad])
    result = drain(batch_size=16, index=index)
    assert result.synced == 15 and result.failed == 1
    failed = Chunk.objects.get(sync_status=SyncStatus.FAILED)
    assert str(failed.qdrant_id) == bad and failed.sync_attempts == 3
    assert "wrong vector" in failed.last_sync_error
    assert stored_ids(index) == chunk_ids() - {bad}


@pytest.mark.django_db
def test_a_chunk_without_vectors_fails_at_once_with_a_hint(vector_index):
    make_chunks(2)
    Chunk.objects.filter(ordinal=0).update(dense_vector=None)
    result = drain(index=ensured(vector_index))
    assert result.synced == 1 and result.failed == 1
    assert "reindex" in Chunk.objects.get(ordinal=0).last_sync_error


@pytest.mark.django_db
def test_a_crash_between_upsert_and_commit_leaves_chunks_pending_and_the_repush_is_idempotent(vector_index_backend):
    index = FlakyIndex(ensured(vector_index_backend), crash_rate=1.0)
    make_chunks(12)
    with pytest.raises(SimulatedCrash):
        drain(batch_size=12, index=index)
    assert Chunk.objects.filter(sync_status=SyncStatus.PENDING, dense_vector__isnull=False).count() == 12
    assert stored_ids(index) == chunk_ids()  # the points landed before the "crash"
    index.crash_rate = 0.0
    assert drain(index=index).synced == 12
    assert index.count() == 12 and stored_ids(index) == chunk_ids()
