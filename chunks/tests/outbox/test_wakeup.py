"""What starts a drain: notify() after a change commits, the schedule, and the embedded owner's
drain thread."""
import time

import django_q.tasks
import pytest
from django.db import transaction
from django_q.models import Schedule

import chunks.vector_index as vector_index_module
from chunks.models import Chunk, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain
from chunks.outbox.enqueue import delete_document
from chunks.outbox.wakeup import OwnerDrainThread, notify
from chunks.tasks import drain_outbox
from ragbase.testing import ensured, installed_index, make_chunks


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.django_db
def test_the_drain_is_a_schedule_visible_in_the_admin():
    schedule = Schedule.objects.get(name="outbox drain")
    assert schedule.func == "chunks.tasks.drain_outbox" and schedule.repeats == -1


@pytest.mark.django_db
def test_in_server_mode_notify_runs_the_drain_task(vector_index_backend, settings, django_capture_on_commit_callbacks):
    settings.QDRANT_URL = "http://qdrant.invalid:6333"  # server mode; the fixture's index stands in
    ensured(vector_index_backend)
    make_chunks(5)
    with django_capture_on_commit_callbacks(execute=True):
        notify()
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 5  # Q_SYNC runs it inline


@pytest.mark.django_db
def test_in_server_mode_a_deletion_enqueues_one_drain_task_per_transaction(
        vector_index, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.QDRANT_URL = "http://qdrant.invalid:6333"
    first, second = make_chunks(4, documents=2)
    drain(index=ensured(vector_index))
    enqueued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kwargs: enqueued.append(func))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():  # a Drive disconnect deletes many documents in one transaction
            delete_document(document=first)
            delete_document(document=second)
        assert enqueued == []  # nothing before the commit
    assert enqueued == ["chunks.tasks.drain_outbox"]


@pytest.mark.django_db
def test_in_embedded_mode_a_worker_task_never_opens_the_store(settings):
    settings.QDRANT_URL = ""
    with installed_index(None):
        make_chunks(2)
        assert "woke the owner" in drain_outbox()
        assert vector_index_module._process_index is None
        assert Chunk.objects.filter(sync_status=SyncStatus.PENDING).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_owner_drain_thread_wakes_on_notify(vector_index, settings):
    settings.QDRANT_URL = ""
    ensured(vector_index)
    thread = OwnerDrainThread(poll_seconds=300)
    thread.start()
    try:
        wait_for(lambda: thread.drains >= 1)  # the first round finds nothing; now it is listening
        make_chunks(7)
        notify()  # the drain thread is woken by NOTIFY, not by the poll
        wait_for(lambda: Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() >= 7)
    finally:
        thread.stop()
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 7
    assert vector_index.count() == 7


@pytest.mark.django_db(transaction=True)
def test_a_users_delete_wakes_the_owner_drain_thread(vector_index, settings):
    """The point leaves the store within seconds of the delete, not at the next poll."""
    settings.QDRANT_URL = ""
    kept, deleted = make_chunks(6, documents=2)
    drain(index=ensured(vector_index))
    thread = OwnerDrainThread(poll_seconds=300)
    thread.start()
    try:
        wait_for(lambda: thread.drains >= 1)
        delete_document(document=deleted)
        wait_for(lambda: not VectorDeletion.objects.exists())
    finally:
        thread.stop()
    assert not VectorDeletion.objects.exists()
    assert vector_index.count() == 3
