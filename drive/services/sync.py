"""Syncing a connection, as a chain of bounded tasks:

    "Sync now" / schedule ─► SyncRun (one active per connection; a second request joins it)
        listing slices ──► SyncItem rows (page token saved with each page's items)
        processing lanes ─► claim a batch ─► download ─► extract + chunk ─► embed together
                            ─► one transaction: Documents, PENDING chunks, item outcomes
        last item done ──► cursor + scope stored on the connection; the outbox makes it searchable

`drive.tasks` runs the slices as django-q2 tasks; `sync_connection` runs the same slices in a
loop in the calling process (Q_SYNC, tests). See docs/drive.md for the whole design."""
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from drive.models import DriveConnection, SyncItem, SyncRun
from drive.services import listing, processing, runs


@dataclass
class SyncResult:
    ingested: int = 0
    skipped: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""  # why the run stopped or waits, if it did


def sync_connection(*, connection_id: int) -> SyncResult:
    """Start (or join) the connection's sync and run it here until it is up to date, stops, or
    waits for Google: listing slices and processing batches in turn, each bounded as in a worker."""
    connection = DriveConnection.objects.get(pk=connection_id)
    run, _ = runs.start_or_join(connection)
    if run is None:
        return SyncResult(stopped=f"not connected ({connection.status})")
    while True:
        run.refresh_from_db()
        if run.phase not in (SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING):
            break
        pages = 0 if run.listing_done else listing.list_slice(run_id=run.pk).pages
        files = processing.process_batches(run_id=run.pk).files
        if not runs.finish_if_complete(run.pk) and not (pages or files):
            break  # nothing moved (items held by another worker's lease): the schedule goes on
    run.refresh_from_db()
    return result_of(run)


def result_of(run: SyncRun) -> SyncResult:
    counts = dict(run.items.values_list("outcome").annotate(n=Count("id")).order_by())
    failed = run.items.filter(outcome=SyncItem.Outcome.FAILED)
    return SyncResult(
        ingested=counts.get(SyncItem.Outcome.INGESTED, 0), skipped=counts.get(SyncItem.Outcome.SKIPPED, 0),
        removed=counts.get(SyncItem.Outcome.REMOVED, 0), failed=counts.get(SyncItem.Outcome.FAILED, 0),
        errors=[f"{item.file.get('name') or item.file_id}: {item.error}" for item in failed[:20]],
        stopped=run.last_error if run.phase in (SyncRun.Phase.STOPPED, SyncRun.Phase.WAITING) else "",
    )


def runs_to_move() -> list[tuple[SyncRun, bool]]:
    """The schedule's tick: for every connected Drive, its active run (a waiting one resumed once
    its retry time has come; a stalled one stopped) or a new run when the last one finished
    DRIVE_SYNC_INTERVAL_MINUTES ago. Returns (run, started) for the runs to keep moving."""
    moving = []
    now = timezone.now()
    for connection in DriveConnection.objects.filter(status=DriveConnection.Status.CONNECTED):
        run = runs.active_run(connection)
        if run is None:
            last = connection.sync_runs.first()
            if last is not None and last.finished_at and \
                    last.finished_at > now - timedelta(minutes=settings.DRIVE_SYNC_INTERVAL_MINUTES):
                continue
            run, started = runs.start_or_join(connection)
            if run is not None:
                moving.append((run, started))
            continue
        if run.phase == SyncRun.Phase.WAITING:
            if run.retry_at and run.retry_at > now:
                continue
            runs.resume(run)
        elif not runs.made_progress(run):
            continue
        moving.append((run, False))
    return moving
