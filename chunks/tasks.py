"""django-q2 tasks of the chunks app, each with the function that enqueues it (thin: the work is in
chunks.services and chunks.outbox), and the outbox's schedule. django-q2 stores a task as the
dotted path of its function; these paths are taken from the functions themselves."""
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q import tasks as django_q_tasks
from django_q.models import Schedule

from chunks.outbox.drain import drain
from chunks.outbox.wakeup import wake_owner
from chunks.services.index_check import record_light_check
from chunks.services.ingestion import ingest_stored_document
from chunks.vector_index import uses_embedded_store

DRAIN_SCHEDULE = "outbox drain"
INDEX_CHECK_SCHEDULE = "vector store check"


def ingest_document(document_id, force=False):
    ingest_stored_document(document_id=document_id, force=force)


def enqueue_ingestion(document_id: int, *, force: bool = False) -> None:
    """Ingest the stored upload of the document in a worker, once the transaction that stored it
    commits. `force`: even if its content is unchanged (the admin's re-ingest)."""
    args = (document_id, True) if force else (document_id,)
    transaction.on_commit(lambda: django_q_tasks.async_task(task_path(ingest_document), *args))


def drain_outbox() -> str:
    """Scheduled and triggered drain. In embedded mode a worker must not open the store (the
    serve process owns it), so it wakes the owner's drain thread instead."""
    if uses_embedded_store():
        wake_owner()
        return "embedded mode: woke the owner's drain thread"
    result = drain()
    return f"synced {result.synced}, deleted {result.deleted}, deferred {result.deferred}, failed {result.failed}"


def enqueue_drain() -> None:
    django_q_tasks.async_task(task_path(drain_outbox), task_name="outbox drain (triggered)")


def check_index_light() -> str:
    """The scheduled light consistency check. In embedded mode only the serve process may read
    the store, so the worker asks the owner's drain thread to run it (and store the result)."""
    if uses_embedded_store():
        wake_owner(check_index=True)
        return "embedded mode: asked the store's owner to check"
    return str(record_light_check())


def ensure_schedules(**kwargs) -> None:
    """Create or update the schedules from the current settings (after every migrate): the drain
    every OUTBOX_SCHEDULE_SECONDS, rounded up to minutes (django-q2's finest interval), and the
    light check every INDEX_CHECK_MINUTES (none when 0)."""
    Schedule.objects.update_or_create(
        name=DRAIN_SCHEDULE,
        defaults={"func": task_path(drain_outbox), "schedule_type": Schedule.MINUTES,
                  "minutes": max(1, math.ceil(settings.OUTBOX_SCHEDULE_SECONDS / 60)), "repeats": -1},
    )
    if settings.INDEX_CHECK_MINUTES <= 0:
        Schedule.objects.filter(name=INDEX_CHECK_SCHEDULE).delete()
        return
    defaults = {"func": task_path(check_index_light), "schedule_type": Schedule.MINUTES,
                "minutes": settings.INDEX_CHECK_MINUTES, "repeats": -1}
    # First run one interval after the schedule is made, not at once: a fresh installation has
    # nothing to compare, and its first workers have the first sync to do.
    first_run = timezone.now() + timedelta(minutes=settings.INDEX_CHECK_MINUTES)
    Schedule.objects.update_or_create(name=INDEX_CHECK_SCHEDULE, defaults=defaults,
                                      create_defaults={**defaults, "next_run": first_run})


def task_path(task) -> str:
    """The dotted path django-q2 stores for a task function (and finds it by in a worker)."""
    return f"{task.__module__}.{task.__qualname__}"
