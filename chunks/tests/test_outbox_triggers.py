"""What starts a drain: the signal, the schedule, and the embedded owner's drain thread."""
import time

import pytest
from django.db import transaction
from django_q.models import Schedule

import chunks.vector_index as vector_index_module
from chunks.models import Chunk, SyncStatus
from chunks.outbox_triggers import OwnerDrainThread
from chunks.signals import outbox_has_work
from chunks.tasks import drain_outbox
from chunks.tests.outbox_helpers import ensured, make_chunks


@pytest.mark.django_db
def test_the_drain_is_a_schedule_visible_in_the_admin():
    schedule = Schedule.objects.get(name="outbox drain")
    assert schedule.func == "chunks.tasks.drain_outbox" and schedule.repeats == -1


@pytest.mark.django_db
def test_in_server_mode_the_signal_runs_the_drain_task(vector_index_backend, settings, django_capture_on_commit_callbacks):
    settings.QDRANT_URL = "http://qdrant.invalid:6333"  # server mode; the fixture's index stands in
    ensured(vector_index_backend)
    make_chunks(5)
    with django_capture_on_commit_callbacks(execute=True):
        transaction.on_commit(lambda: outbox_has_work.send(sender=None))
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 5  # Q_SYNC runs it inline


@pytest.mark.django_db
def test_in_embedded_mode_a_worker_task_never_opens_the_store(settings):
    settings.QDRANT_URL = ""
    previous = vector_index_module.set_vector_index(None)
    try:
        make_chunks(2)
        assert "woke the owner" in drain_outbox()
        assert vector_index_module._process_index is None
        assert Chunk.objects.filter(sync_status=SyncStatus.PENDING).count() == 2
    finally:
        vector_index_module.set_vector_index(previous)


@pytest.mark.django_db(transaction=True)
def test_the_owner_drain_thread_wakes_on_the_signal(vector_index, settings):
    settings.QDRANT_URL = ""
    ensured(vector_index)
    thread = OwnerDrainThread(poll_seconds=300)
    thread.start()
    try:
        while thread.drains < 1:  # the first round finds nothing; now it is listening
            time.sleep(0.05)
        make_chunks(7)
        outbox_has_work.send(sender=None)  # the drain thread is woken by NOTIFY, not by the poll
        deadline = time.monotonic() + 30
        while Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 7
    assert vector_index.count() == 7
