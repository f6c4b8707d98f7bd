from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate


class ChunksConfig(AppConfig):
    name = "chunks"
    verbose_name = "Documents and chunks"

    def ready(self):
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from chunks import checks, metrics  # noqa: F401  (register the system checks and the /metrics collector)
        from chunks.models import Document
        from chunks.storage import delete_file_of_deleted_document
        from chunks.tasks import ensure_drain_schedule

        post_delete.connect(delete_file_of_deleted_document, sender=Document, dispatch_uid="chunks.storage")
        post_migrate.connect(ensure_drain_schedule, sender=self, dispatch_uid="chunks.tasks.ensure_drain_schedule")
