"""django-q2 entry points for Drive sync (thin: the work is in drive.services.sync)."""
from django.conf import settings

from drive.models import DriveConnection

SCHEDULE_NAME = "drive: sync every connected Drive"


def sync_connection_task(connection_id: int) -> str:
    from drive.services.sync import sync_connection

    return str(sync_connection(connection_id=connection_id))


def enqueue_connected_syncs() -> int:
    """The scheduled task: one sync task per connected Drive (others wait for the user)."""
    from django_q.tasks import async_task

    ids = list(DriveConnection.objects.filter(status=DriveConnection.Status.CONNECTED).values_list("pk", flat=True))
    for pk in ids:
        async_task("drive.tasks.sync_connection_task", pk, task_name=f"drive-sync-{pk}")
    return len(ids)


def request_sync(connection: DriveConnection) -> None:
    """On demand ("Sync now")."""
    from django_q.tasks import async_task

    async_task("drive.tasks.sync_connection_task", connection.pk, task_name=f"drive-sync-{connection.pk}")


def ensure_sync_schedule(**kwargs) -> None:
    """Create or update the single schedule (run after migrate)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "drive.tasks.enqueue_connected_syncs", "schedule_type": Schedule.MINUTES,
                  "minutes": settings.DRIVE_SYNC_INTERVAL_MINUTES, "repeats": -1},
    )
