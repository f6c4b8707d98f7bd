"""django-q2 entry points for Drive sync, each with the function that enqueues it (thin: the work
is in drive.services), and the sync schedule. Each task hands itself on with a new ticket when its
time bound is reached (drive.services.tickets). With Q_SYNC (tests) the chain runs inline as a
loop (drive.services.sync.sync_connection). django-q2 stores a task as the dotted path of its
function; these paths are taken from the functions themselves."""
import uuid

from django.conf import settings
from django.db import transaction
from django_q import tasks as django_q_tasks
from django_q.conf import Conf

from chunks.tasks import keep_schedule, task_path
from drive.models import DriveConnection, SyncRun
from drive.services import batching, listing, processing, refetch, runs, tickets
from drive.services.sync import runs_to_move, sync_connection

SCHEDULE_NAME = "drive: sync every connected Drive"
SCHEDULE_MINUTES = 1  # the tick that starts due syncs, resumes waiting ones, restarts dead chains


def _q_sync() -> bool:
    return bool(Conf.SYNC)


def _enqueue(task, *args, name: str) -> None:
    transaction.on_commit(lambda: django_q_tasks.async_task(task_path(task), *args, task_name=name))


def sync_listing_task(run_id: int, ticket: str) -> str:
    result = listing.list_slice(run_id=run_id, ticket=uuid.UUID(ticket), on_queued=enqueue_processing)
    if result.more and not result.stale:
        enqueue_listing(run_id, after=uuid.UUID(ticket))
    return str(result)


def enqueue_listing(run_id: int, *, after: uuid.UUID | None = None) -> None:
    ticket = tickets.next_listing_ticket(run_id, after=after)
    if ticket is not None:
        _enqueue(sync_listing_task, run_id, str(ticket), name=f"drive-listing-{run_id}")


def process_files_task(lane: int, ticket: str) -> str:
    ticket = uuid.UUID(ticket)
    if lane >= settings.DRIVE_PROCESSING_TASKS:  # DRIVE_PROCESSING_TASKS was lowered since
        tickets.retire(lane, ticket)
        return "lane no longer configured"
    if not tickets.beat(lane, ticket):
        return "stale ticket: another task has this lane"
    result = processing.process_batches(beat=lambda: tickets.beat(lane, ticket))
    if result.more:
        enqueue_processing(lane=lane, after=ticket)
    else:
        tickets.retire(lane, ticket)
        if batching.has_claimable_work():  # work queued while this lane was retiring
            enqueue_processing()
    return str(result)


def enqueue_processing(*, lane: int | None = None, after: uuid.UUID | None = None) -> None:
    """Start every idle or stale lane; with `lane`, hand that lane on to its next task."""
    woken = [(lane, tickets.hand_on(lane, after))] if lane is not None else tickets.wake_lanes()
    for number, ticket in woken:
        if ticket is not None:
            _enqueue(process_files_task, number, str(ticket), name=f"drive-processing-{number}")


def keep_moving(run: SyncRun, *, started: bool) -> None:
    """Make sure a run's listing chain and the processing lanes are alive (after a start, a
    resume, a kill, a restart of every worker)."""
    run.refresh_from_db()
    if run.phase not in (SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING):
        return
    if not run.listing_done and (started or not tickets.listing_alive(run)):
        enqueue_listing(run.pk)
    if batching.has_claimable_work(run.pk):
        enqueue_processing()


def request_sync(connection: DriveConnection) -> SyncRun | None:
    """"Sync now": start the connection's sync, or join (and revive) the one running."""
    if _q_sync():
        sync_connection(connection_id=connection.pk)
        return runs.active_run(connection) or connection.sync_runs.first()
    run, started = runs.start_or_join(connection)
    if run is not None:
        keep_moving(run, started=started)
    return run


def fetch_again(*, documents, dry_run=False) -> dict[int, str]:
    """Fetch these Drive documents again (chunks' rechunk and re-ingestion, registered in
    drive.apps): they join their connections' sync runs, kept moving once this transaction
    commits. Returns what happens to each document (by id); one left out cannot be fetched again."""
    messages, joined = refetch.queue_again(documents=documents, dry_run=dry_run)
    for run in joined:
        transaction.on_commit(lambda run=run: request_sync(run.connection))
    return messages


def enqueue_connected_syncs() -> int:
    """The scheduled tick. Returns how many syncs it started or kept moving."""
    moving = runs_to_move()
    for run, started in moving:
        if _q_sync():
            sync_connection(connection_id=run.connection_id)
        else:
            keep_moving(run, started=started)
    return len(moving)


def ensure_sync_schedule(**kwargs) -> None:
    """Create or update the sync schedule (after every migrate)."""
    keep_schedule(SCHEDULE_NAME, enqueue_connected_syncs, minutes=SCHEDULE_MINUTES)
