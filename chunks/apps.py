from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate


class ChunksConfig(AppConfig):
    name = "chunks"
    verbose_name = "Documents and chunks"

    def ready(self):
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from chunks import checks  # noqa: F401  (registers the system checks)
        from chunks.metrics import OutboxCollector, register_scrape_time_collector
        from chunks.models import Document
        from chunks.outbox.stats import stats
        from chunks.storage import delete_file_of_deleted_document
        from chunks.tasks import ensure_schedules

        register_scrape_time_collector(OutboxCollector(read_stats=stats))
        post_delete.connect(delete_file_of_deleted_document, sender=Document, dispatch_uid="chunks.storage")
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="chunks.tasks.ensure_schedules")
