from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DriveConfig(AppConfig):
    name = "drive"
    verbose_name = "Google Drive"

    def ready(self):
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from chunks.models import Document
        from chunks.services.refetching import register_refetching_source
        from drive import checks, metrics  # noqa: F401  (register the system checks and the /metrics collector)
        from drive.services import refetch
        from drive.tasks import ensure_sync_schedule, fetch_again

        register_refetching_source(Document.Source.DRIVE, fetch_again=fetch_again,
                                   lacking_headings=refetch.LACKING_HEADINGS)

        post_migrate.connect(ensure_sync_schedule, sender=self, dispatch_uid="drive.tasks.ensure_sync_schedule")
