"""Which queued task may run. Every sync task carries a ticket; a task whose ticket is no longer
current exits at once, so a re-enqueued chain (after a kill, or by the schedule) never runs twice
and queued duplicates cost nothing.

- Listing: one ticket per run (`SyncRun.listing_ticket`), renewed by each slice for the next.
- Processing: DRIVE_PROCESSING_TASKS lanes (`ProcessingLane`), each with a ticket and a
  heartbeat; `wake_lanes` starts the idle ones and any whose heartbeat is stale."""
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from drive.models import ProcessingLane, SyncRun


def stale_after() -> timedelta:
    """No sign of life for this long: the task died (the worker was killed) or waits far back in the queue."""
    return timedelta(seconds=2 * settings.DRIVE_TASK_SECONDS + settings.DRIVE_HTTP_TIMEOUT_SECONDS)


def next_listing_ticket(run_id: int, *, after: uuid.UUID | None = None) -> uuid.UUID | None:
    """A new listing ticket for the run; with `after`, only if that one is still current (the chain
    hands on). None: someone else holds the listing now."""
    ticket = uuid.uuid4()
    runs = SyncRun.objects.filter(pk=run_id, phase__in=[SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING],
                                  listing_done=False)
    if after is not None:
        runs = runs.filter(listing_ticket=after)
    return ticket if runs.update(listing_ticket=ticket, heartbeat_at=timezone.now()) else None


def listing_alive(run: SyncRun) -> bool:
    return run.listing_ticket is not None and run.heartbeat_at is not None and \
        run.heartbeat_at > timezone.now() - stale_after()


def wake_lanes() -> list[tuple[int, uuid.UUID]]:
    """Tickets for every lane that is idle or stale (each to be enqueued)."""
    woken = []
    now = timezone.now()
    for number in range(settings.DRIVE_PROCESSING_TASKS):
        ProcessingLane.objects.get_or_create(number=number)
        ticket = uuid.uuid4()
        if ProcessingLane.objects.filter(Q(ticket__isnull=True) | Q(heartbeat_at__lt=now - stale_after()),
                                         number=number).update(ticket=ticket, heartbeat_at=now):
            woken.append((number, ticket))
    return woken


def hand_on(number: int, ticket: uuid.UUID) -> uuid.UUID | None:
    """The lane's next ticket, if `ticket` is still the lane's."""
    new = uuid.uuid4()
    if ProcessingLane.objects.filter(number=number, ticket=ticket).update(ticket=new, heartbeat_at=timezone.now()):
        return new
    return None


def beat(number: int, ticket: uuid.UUID) -> bool:
    """A lane's sign of life; False if the lane was taken over (the task stops)."""
    return bool(ProcessingLane.objects.filter(number=number, ticket=ticket).update(heartbeat_at=timezone.now()))


def retire(number: int, ticket: uuid.UUID) -> None:
    ProcessingLane.objects.filter(number=number, ticket=ticket).update(ticket=None)
