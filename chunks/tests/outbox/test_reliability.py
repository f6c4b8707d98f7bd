"""The vector store fails at random points during a drain of thousands of chunks (errors,
timeouts, outages, the drain dying between upsert and commit); after recovery every chunk is
SYNCED exactly once in effect and deleted ones are gone."""
import random

import pytest

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain
from chunks.outbox.enqueue import delete_document
from chunks.tests.outbox.faulty_index import FlakyIndex, SimulatedCrash, stored_ids
from ragbase.testing import ensured, make_chunks


@pytest.mark.reliability
@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_random_store_faults_during_a_drain_lose_nothing(vector_index, settings, seed):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 1000  # transient faults must never fail a chunk here
    rng = random.Random(seed)
    index = FlakyIndex(ensured(vector_index), seed=seed, error_rate=0.15, crash_rate=0.1, outage_rate=0.05)
    make_chunks(2000, documents=10, seed=seed)
    crashes = outages = 0
    for round_number in range(500):
        if round_number == 3:
            for document in Document.objects.order_by("id")[:2]:
                delete_document(document=document)
        if index.down and rng.random() < 0.5:
            index.down = False
            outages += 1
        try:
            drain(batch_size=100, max_batches=5, index=index)
        except SimulatedCrash:
            crashes += 1
        done = not Chunk.objects.exclude(sync_status=SyncStatus.SYNCED).exists()
        if done and not VectorDeletion.objects.exists() and round_number > 3:
            break
    assert crashes and outages, "the faults must actually have happened"
    assert Chunk.objects.count() == 1600
    assert not Chunk.objects.exclude(sync_status=SyncStatus.SYNCED).exists()
    assert not VectorDeletion.objects.exists()
    ids = {str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}
    assert stored_ids(index) == ids and index.count() == 1600
