from django.apps import AppConfig


class ChunksConfig(AppConfig):
    name = "chunks"
    verbose_name = "Documents and chunks"

    def ready(self):
        from django.db.models.signals import post_delete

        from chunks.models import Document
        from chunks.outbox_triggers import on_outbox_has_work
        from chunks.signals import outbox_has_work
        from chunks.uploads import delete_file_of_deleted_document

        outbox_has_work.connect(on_outbox_has_work, dispatch_uid="chunks.outbox_triggers")
        post_delete.connect(delete_file_of_deleted_document, sender=Document, dispatch_uid="chunks.uploads")
