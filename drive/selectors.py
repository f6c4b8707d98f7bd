"""Shared reads of Drive state: a user's Drive documents, the sync progress the Drive page, its
JSON endpoint and the admin show, and the backlog totals /metrics exports. All numbers are read
from Postgres when asked."""
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from chunks.models import Document
from chunks.selectors import pending_chunk_count
from drive.models import DriveConnection, SyncItem, SyncRun

RATE_WINDOW = timedelta(minutes=5)  # the ETA follows the rate of the last few minutes


def drive_documents(owner):
    return Document.objects.filter(owner=owner, source=Document.Source.DRIVE)


def failed_drive_documents(owner, *, limit: int = 50):
    """The owner's Drive files that could not be indexed, latest first (the Drive page lists them)."""
    return drive_documents(owner).filter(state=Document.State.FAILED).order_by("-updated_at")[:limit]


def drive_file_counts(owner) -> tuple[int, int]:
    """(indexed, failed) Drive documents of the owner."""
    counts = drive_documents(owner).aggregate(
        indexed=Count("id", filter=Q(state__in=Document.INDEXED_STATES)),
        failed=Count("id", filter=Q(state=Document.State.FAILED)))
    return counts["indexed"], counts["failed"]


@dataclass
class SyncProgress:
    phase: str  # listing, processing, waiting, done, stopped; "" = never synced
    phase_label: str
    active: bool
    found: int = 0  # files the listing found to index
    done: int = 0  # of those, indexed or unchanged
    failed: int = 0
    queued: int = 0  # files (and removals) not yet started
    in_progress: int = 0
    removed: int = 0
    chunks_waiting: int = 0  # PENDING chunks of the user's Drive documents: not yet searchable
    files_indexed: int = 0  # Drive documents indexed now (whatever the run)
    files_per_second: float | None = None
    eta_seconds: int | None = None
    eta_is_lower_bound: bool = False  # the listing is still finding files
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_sync_at: datetime | None = None
    retry_at: datetime | None = None
    unreachable_at: datetime | None = None
    message: str = ""  # the last error of a stopped sync, or why it waits

    def as_json(self) -> dict:
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        data.update(eta_text=self.eta_text or "—", last_sync_text=self.last_sync_text, notice=self.notice)
        return data

    @property
    def last_sync_text(self) -> str:
        """Never "never" while files are indexed (a first sync still running, or one that stopped)."""
        if self.last_sync_at:
            return timezone.localtime(self.last_sync_at).strftime("%Y-%m-%d %H:%M")
        if self.files_indexed:
            return f"not completed yet ({self.files_indexed} files indexed so far)"
        return "never"

    @property
    def notice(self) -> str:
        if self.phase == SyncRun.Phase.WAITING:
            return (f"Google could not be reached at {_hhmm(self.unreachable_at)}; "
                    f"will retry at {_hhmm(self.retry_at)}.")
        if self.phase == SyncRun.Phase.STOPPED:
            return "The last sync stopped (see below); press Sync now to start again."
        return ""

    @property
    def eta_text(self) -> str:
        if self.eta_seconds is None:
            return ""
        minutes = max(1, round(self.eta_seconds / 60))
        when = f"about {minutes} min" if minutes < 90 else f"about {minutes / 60:.1f} h"
        return ("at least " if self.eta_is_lower_bound else "") + when


def drive_status(user) -> tuple[DriveConnection | None, SyncProgress | None]:
    """The user's Drive connection and its sync progress; (None, None) when Drive is not connected."""
    connection = DriveConnection.objects.filter(user=user).first()
    return connection, sync_progress(connection) if connection else None


def _hhmm(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%H:%M") if value else ""


def sync_progress(connection) -> SyncProgress:
    """The connection's latest sync run, as the user sees it."""
    run = connection.sync_runs.first()
    indexed = drive_documents(connection.user).filter(state__in=Document.INDEXED_STATES).count()
    waiting = pending_chunk_count(connection.user, source=Document.Source.DRIVE)
    if run is None:
        return SyncProgress(phase="", phase_label="Never synced", active=False, files_indexed=indexed,
                            chunks_waiting=waiting, last_sync_at=connection.last_sync_at)
    progress = SyncProgress(
        phase=run.phase, phase_label=run.get_phase_display(), active=run.is_active, files_indexed=indexed,
        chunks_waiting=waiting, started_at=run.started_at, finished_at=run.finished_at,
        last_sync_at=connection.last_sync_at, retry_at=run.retry_at if run.phase == SyncRun.Phase.WAITING else None,
        unreachable_at=run.unreachable_at if run.phase == SyncRun.Phase.WAITING else None,
        message=run.last_error,
    )
    ingest = Q(action=SyncItem.Action.INGEST)
    counts = run.items.aggregate(
        found=Count("id", filter=ingest),
        done=Count("id", filter=ingest & Q(outcome__in=[SyncItem.Outcome.INGESTED, SyncItem.Outcome.SKIPPED])),
        failed=Count("id", filter=ingest & Q(outcome=SyncItem.Outcome.FAILED)),
        queued=Count("id", filter=Q(state=SyncItem.State.QUEUED)),
        in_progress=Count("id", filter=Q(state=SyncItem.State.CLAIMED)),
        removed=Count("id", filter=Q(outcome=SyncItem.Outcome.REMOVED)),
    )
    for name, value in counts.items():
        setattr(progress, name, value)
    if run.is_active:
        _estimate(progress, run)
    return progress


def _estimate(progress: SyncProgress, run: SyncRun) -> None:
    """Files per second over the last few minutes (files done at listing time, unchanged, are not
    counted: they cost nothing), and the time left at that rate."""
    now = timezone.now()
    since = max(now - RATE_WINDOW, run.started_at)
    recent = run.items.filter(finished_at__gte=since).count()
    seconds = (now - since).total_seconds()
    left = progress.queued + progress.in_progress
    if recent and seconds > 0:
        progress.files_per_second = recent / seconds
        progress.eta_seconds = round(left / progress.files_per_second)
        progress.eta_is_lower_bound = not run.listing_done


@dataclass
class BacklogTotals:
    runs_by_phase: dict[str, int]
    queued: int
    in_progress: int
    oldest_heartbeat_seconds: float


def backlog_totals() -> BacklogTotals:
    active = SyncRun.objects.filter(phase__in=SyncRun.ACTIVE_PHASES)
    by_phase = dict(active.values_list("phase").annotate(n=Count("id")).order_by())
    items = SyncItem.objects.filter(run__phase__in=SyncRun.ACTIVE_PHASES).aggregate(
        queued=Count("id", filter=Q(state=SyncItem.State.QUEUED)),
        in_progress=Count("id", filter=Q(state=SyncItem.State.CLAIMED)))
    oldest = active.exclude(phase=SyncRun.Phase.WAITING).aggregate(oldest=Min("heartbeat_at"))["oldest"]
    return BacklogTotals(
        runs_by_phase={phase: by_phase.get(phase, 0) for phase in SyncRun.ACTIVE_PHASES},
        queued=items["queued"], in_progress=items["in_progress"],
        oldest_heartbeat_seconds=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
    )
