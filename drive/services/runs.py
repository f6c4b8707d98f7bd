"""A connection's sync run: started, or joined when one is active; waiting while Google cannot be
reached; stopped with a reason; finished once its listing is done and every item processed (only
then do the changes cursor and the listed scope move to the connection)."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from drive.metrics import DRIVE_SYNC_ERRORS
from drive.models import DriveConnection, SyncItem, SyncRun
from drive.selectors import drive_file_counts
from drive.services.google_api import GoogleUnavailable, GrantRevoked, drive_service
from drive.services.tokens import REVOKED_MESSAGE, refresh_token_or_flag

logger = logging.getLogger(__name__)

# Waiting for Google: the first retry after a minute, doubling, at most the sync interval.
WAIT_BASE_SECONDS = 60
LAST_ERROR_FILES = 20


def active_run(connection) -> SyncRun | None:
    return connection.sync_runs.filter(phase__in=SyncRun.ACTIVE_PHASES).first()


def start_or_join(connection: DriveConnection) -> tuple[SyncRun | None, bool]:
    """The connection's active run (a waiting one resumes now), or a new one. (None, False) when
    the connection is not connected."""
    with transaction.atomic():
        connection = DriveConnection.objects.select_for_update().get(pk=connection.pk)
        run = active_run(connection)
        if run is not None:
            if run.phase == SyncRun.Phase.WAITING:
                resume(run)
            return run, False
        if connection.status != DriveConnection.Status.CONNECTED:
            return None, False
        now = timezone.now()
        return SyncRun.objects.create(connection=connection, heartbeat_at=now, progress_at=now), True


def resume(run: SyncRun) -> None:
    run.phase = SyncRun.Phase.PROCESSING if run.listing_done else SyncRun.Phase.LISTING
    run.retry_at, run.progress_at = None, timezone.now()  # the time spent waiting is not a stall
    run.save(update_fields=["phase", "retry_at", "progress_at"])


def touch(run_id: int) -> None:
    """A sign of life (and Google answered again)."""
    SyncRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now(), unreachable_count=0)


def wait_for_google(run_id: int, error: str) -> None:
    """Google could not be reached: the run waits (the connection stays connected) and the
    schedule resumes it at `retry_at`."""
    run = SyncRun.objects.get(pk=run_id)
    count = run.unreachable_count + 1
    delay = min(WAIT_BASE_SECONDS * 2 ** (count - 1), settings.DRIVE_SYNC_INTERVAL_MINUTES * 60)
    now = timezone.now()
    updated = SyncRun.objects.filter(pk=run_id, phase__in=SyncRun.ACTIVE_PHASES).update(
        phase=SyncRun.Phase.WAITING, retry_at=now + timedelta(seconds=delay), unreachable_at=now,
        unreachable_count=count, heartbeat_at=now, last_error=f"Google could not be reached ({error}).")
    if updated:
        logger.warning("Drive sync %s: Google unreachable (%s); retry in %ss", run_id, error, delay)


def stop(run_id: int, reason: str) -> None:
    """End the run for good (revoked grant, a listing that makes no progress, an API refusal)."""
    now = timezone.now()
    if SyncRun.objects.filter(pk=run_id, phase__in=SyncRun.ACTIVE_PHASES).update(
            phase=SyncRun.Phase.STOPPED, finished_at=now, heartbeat_at=now, last_error=reason):
        DRIVE_SYNC_ERRORS.inc()
        run = SyncRun.objects.select_related("connection").get(pk=run_id)
        _record_on_connection(run, last_sync=False)
        logger.warning("Drive sync %s stopped: %s", run_id, reason)


def google_service(run: SyncRun):
    """The Drive client with the run's connection's credentials, or None (run stopped) when they
    cannot be read."""
    token = refresh_token_or_flag(run.connection)
    if token is None:
        stop(run.pk, run.connection.status_message)
        return None
    return drive_service(token)


def on_google_failure(run_id: int, error: Exception) -> None:
    """What a refused grant or an unreachable Google means for the run."""
    if isinstance(error, GrantRevoked):
        DriveConnection.objects.get(sync_runs=run_id).mark_needs_reconnect(REVOKED_MESSAGE)
        stop(run_id, REVOKED_MESSAGE)
    elif isinstance(error, GoogleUnavailable):
        wait_for_google(run_id, str(error))
    else:
        raise TypeError(error)


def note(run: SyncRun, message: str) -> None:
    """Add a line to the run's report (the caller saves the run)."""
    run.last_error = "\n".join(filter(None, [run.last_error, message]))[-4000:]


def finish_if_complete(run_id: int) -> bool:
    """Mark the run up to date when its listing is done and no item is left; move the cursor
    and the scope to the connection if the listing was complete. Safe to call from every lane."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.phase not in (SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING) or not run.listing_done:
            return False
        if run.items.filter(state__in=[SyncItem.State.QUEUED, SyncItem.State.CLAIMED]).exists():
            return False
        connection = DriveConnection.objects.select_for_update().get(pk=run.connection_id)
        if run.listing_complete:
            token = run.start_page_token if run.kind == SyncRun.Kind.FULL else run.new_changes_token
            connection.changes_page_token = token or connection.changes_page_token
            connection.synced_scope = run.scope
            connection.save(update_fields=["changes_page_token", "synced_scope", "updated_at"])
        run.phase, run.finished_at = SyncRun.Phase.DONE, timezone.now()
        run.save(update_fields=["phase", "finished_at"])
        run.connection = connection
        _record_on_connection(run, last_sync=True)
    failed = run.items.filter(outcome=SyncItem.Outcome.FAILED).exists()
    if failed or not run.listing_complete:
        DRIVE_SYNC_ERRORS.inc()
    logger.info("Drive sync %s of connection %s is up to date", run.pk, run.connection_id)
    return True


def _record_on_connection(run: SyncRun, *, last_sync: bool) -> None:
    """The connection keeps the latest outcome: indexed and failed counts, the report of failures."""
    connection = run.connection
    connection.files_indexed, connection.files_failed = drive_file_counts(connection.user)
    failed = run.items.filter(outcome=SyncItem.Outcome.FAILED).order_by("-finished_at")[:LAST_ERROR_FILES]
    lines = [run.last_error] if run.last_error else []
    lines += [f"{item.file.get('name') or item.file_id}: {item.error or 'failed'}"[:300] for item in failed]
    connection.last_error = "\n".join(lines)
    fields = ["files_indexed", "files_failed", "last_error", "updated_at"]
    if last_sync:
        connection.last_sync_at = run.finished_at
        fields.append("last_sync_at")
    connection.save(update_fields=fields)


def made_progress(run: SyncRun) -> bool:
    """Compare the run's progress with the last look; stop it after DRIVE_STALL_MINUTES without
    any (a listing or a file that fails the same way on every retry must not spin for days).
    Returns False when the run was stopped."""
    mark = run.pages_listed + run.items.filter(state=SyncItem.State.DONE).count()
    now = timezone.now()
    if mark != run.progress_mark or run.progress_at is None:
        SyncRun.objects.filter(pk=run.pk).update(progress_mark=mark, progress_at=now)
        return True
    if run.phase != SyncRun.Phase.WAITING and now - run.progress_at > timedelta(minutes=settings.DRIVE_STALL_MINUTES):
        stop(run.pk, f"No progress for {settings.DRIVE_STALL_MINUTES} minutes ({run.pages_listed} pages listed, "
                     f"{mark - run.pages_listed} files done); the sync was stopped rather than retried forever. "
                     "The next scheduled sync starts again.")
        return False
    return True
