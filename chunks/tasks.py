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
    keep_schedule(DRAIN_SCHEDULE, drain_outbox, minutes=max(1, math.ceil(settings.OUTBOX_SCHEDULE_SECONDS / 60)))
    if settings.INDEX_CHECK_MINUTES <= 0:
        Schedule.objects.filter(name=INDEX_CHECK_SCHEDULE).delete()
        return
    # First run one interval after the schedule is made, not at once: a fresh installation has
    # nothing to compare, and its first workers have the first sync to do.
    keep_schedule(INDEX_CHECK_SCHEDULE, check_index_light, minutes=settings.INDEX_CHECK_MINUTES, first_run_later=True)


def keep_schedule(name: str, task, *, minutes: int, first_run_later: bool = False) -> None:
    """Create or update the schedule `name` that runs `task` every `minutes`. A new schedule first
    runs at once, or one interval later with `first_run_later`. A shorter interval takes effect
    now: a next run further away than one new interval is brought forward to it."""
    one_interval = timezone.now() + timedelta(minutes=minutes)
    defaults = {"func": task_path(task), "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1}
    first = {**defaults, "next_run": one_interval} if first_run_later else defaults
    Schedule.objects.update_or_create(name=name, defaults=defaults, create_defaults=first)
    Schedule.objects.filter(name=name, next_run__gt=one_interval).update(next_run=one_interval)


def task_path(task) -> str:
    """The dotted path django-q2 stores for a task function (and finds it by in a worker)."""
    return f"{task.__module__}.{task.__qualname__}"
