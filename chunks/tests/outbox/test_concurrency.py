"""Concurrent drains with their own database connections (transaction=True tests)."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, connections

from chunks.models import Chunk, SyncStatus
from chunks.outbox.drain import drain
from chunks.tests.outbox.faulty_index import WrappedIndex, stored_ids
from chunks.vector_index.qdrant_server import ServerVectorIndex
from ragbase.testing import ensured, make_chunks

ROOT = Path(__file__).resolve().parents[3]
RELIABILITY_CHUNKS = int(os.environ.get("RAGBASE_RELIABILITY_CHUNKS", "4000"))


def run_parallel_drains(index, workers, batch_size):
    errors = []

    def work():
        try:
            drain(batch_size=batch_size, index=index)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors


def assert_each_chunk_pushed_once(index, expected):
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == expected
    assert len(index.upserted) == expected and set(index.upserted.values()) == {1}
    ids = {str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}
    assert set(index.upserted) == ids and stored_ids(index) == ids


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_drains_push_each_chunk_once(vector_index_backend):
    index = WrappedIndex(ensured(vector_index_backend))
    make_chunks(300)
    run_parallel_drains(index, workers=2, batch_size=20)
    assert_each_chunk_pushed_once(index, 300)


@pytest.mark.django_db(transaction=True)
def test_one_drain_pushes_batches_from_parallel_loops_each_chunk_once(vector_index, settings):
    settings.OUTBOX_DRAIN_THREADS = 3

    class RecordingIndex(WrappedIndex):
        def before_upsert(self, points):
            self.threads = getattr(self, "threads", set()) | {threading.current_thread().name}
            # Yield, so that every loop gets a batch while this one holds the store.
            time.sleep(0.01)

    index = RecordingIndex(ensured(vector_index))
    make_chunks(400, documents=4)
    result = drain(batch_size=25, index=index)
    assert result.synced == 400 and result.batches == 16
    assert len(index.threads) == 3 and all(name.startswith("outbox-drain") for name in index.threads)
    assert_each_chunk_pushed_once(index, 400)


def test_inside_a_transaction_the_drain_stays_on_the_callers_connection(vector_index, settings, db):
    settings.OUTBOX_DRAIN_THREADS = 3
    make_chunks(60)  # uncommitted: only this test's connection sees them
    assert drain(batch_size=25, index=ensured(vector_index)).synced == 60


@pytest.mark.reliability
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_four_parallel_drains_over_many_chunks_push_each_once_none_lost(tmp_path):
    """Four drains in threads with their own connections, against the server backend's stand-in,
    upsert every chunk exactly once. The suite runs RAGBASE_RELIABILITY_CHUNKS (default 4,000); set
    it to 20000 for the full figure."""
    index = WrappedIndex(ensured(ServerVectorIndex(location=":memory:", collection="p5")))
    make_chunks(RELIABILITY_CHUNKS, documents=20)
    run_parallel_drains(index, workers=4, batch_size=250)
    assert_each_chunk_pushed_once(index, RELIABILITY_CHUNKS)


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_holding_a_claim_strands_nothing(vector_index, tmp_path):
    make_chunks(30)
    # The same server as this test, but the test database (pytest-django renamed it).
    url = urlsplit(os.environ["DATABASE_URL"])
    env = dict(os.environ, DATABASE_URL=urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"])))
    worker = subprocess.Popen(
        [sys.executable, "-m", "chunks.tests.outbox.drain_worker", str(tmp_path / "worker-store"), "20"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "claimed 20"
        # While the worker holds its claim, another drain skips those rows instead of waiting.
        index = ensured(vector_index)
        assert drain(index=index).synced == 10
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert drain(index=index).synced == 20
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 30
