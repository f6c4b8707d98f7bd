from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DriveConfig(AppConfig):
    name = "drive"
    verbose_name = "Google Drive"

    def ready(self):
        from drive import checks, metrics  # noqa: F401  (register the system checks and the /metrics collector)

        post_migrate.connect(_ensure_schedule, sender=self)


def _ensure_schedule(**kwargs):
    from drive.tasks import ensure_sync_schedule

    ensure_sync_schedule()
