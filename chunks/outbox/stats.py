"""The outbox at a glance, read from Postgres when asked: the admin's panel above the chunk list,
`manage.py outbox_status`, /readyz (the oldest PENDING chunk's age) and /metrics."""
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone

from chunks.models import Chunk, SyncStatus, VectorDeletion


@dataclass(frozen=True)
class OutboxStats:
    counts: dict  # sync_status -> chunks, every status present
    oldest_pending_age_seconds: float | None  # None: nothing PENDING
    last_error: str  # of the most recently updated chunk not yet SYNCED
    deletions_pending: int
    deletions_failed: int


def stats() -> OutboxStats:
    counts = {status: 0 for status in SyncStatus.values}
    counts.update(dict(Chunk.objects.values_list("sync_status").annotate(n=Count("id")).order_by()))
    oldest = Chunk.objects.filter(sync_status=SyncStatus.PENDING).aggregate(t=Min("created_at"))["t"]
    with_error = (
        Chunk.objects.exclude(last_sync_error="").exclude(sync_status=SyncStatus.SYNCED).order_by("-updated_at").first()
    )
    deletions = VectorDeletion.objects.aggregate(
        pending=Count("id", filter=Q(failed=False)), failed=Count("id", filter=Q(failed=True))
    )
    return OutboxStats(
        counts=counts,
        oldest_pending_age_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
        last_error=with_error.last_sync_error if with_error else "",
        deletions_pending=deletions["pending"],
        deletions_failed=deletions["failed"],
    )
