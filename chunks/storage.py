"""Stored upload files leave MEDIA_ROOT once they are no longer needed: when their document is
deleted (any way: the page, the API, the admin, a deleted user) and when ingestion refused the
file (the user uploads a fixed one). Deleted only after the transaction commits."""
from django.db import transaction

from chunks.models import Document


def forget_stored_file(document: Document) -> None:
    """Delete the document's stored upload (once the transaction commits) and clear the field."""
    if document.file:
        _delete_on_commit(document.file)
        Document.objects.filter(pk=document.pk).update(file="")
        document.file = ""


def delete_file_of_deleted_document(sender, instance, **kwargs):
    """post_delete receiver for Document: its stored upload goes with it."""
    if instance.file:
        _delete_on_commit(instance.file)


def _delete_on_commit(field_file) -> None:
    name, storage = field_file.name, field_file.storage
    transaction.on_commit(lambda: storage.delete(name))
