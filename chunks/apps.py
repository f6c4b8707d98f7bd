from django.apps import AppConfig
from django.db.models.signals import post_delete


class ChunksConfig(AppConfig):
    name = "chunks"
    verbose_name = "Documents and chunks"

    def ready(self):
        from chunks.models import Document
        from chunks.uploads import delete_file_of_deleted_document

        post_delete.connect(delete_file_of_deleted_document, sender=Document, dispatch_uid="chunks.uploads")
