"""Receiving uploads: limits enforced while the request body is read, then the file stored and its
ingestion queued (`queue_upload`).

No file over INGEST_MAX_FILE_BYTES and no upload past the uploader's UPLOAD_QUOTA_BYTES is
accepted. `LimitedUploadHandler` comes first in FILE_UPLOAD_HANDLERS and stops the upload the
moment a limit is passed, before Django's own handlers keep more bytes (in memory, or in a
temporary file they delete when the upload stops); the view then answers 413 with
`upload_refusal(request)` and stores nothing. When a stored file goes: chunks.storage."""
import uuid

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.template.defaultfilters import filesizeformat

from chunks.extraction import guess_mime_type
from chunks.models import Document
from chunks.selectors import stored_upload_bytes
from chunks.tasks import enqueue_ingestion


def quota_message(used: int) -> str:
    return (f"Storage quota reached: your uploads take {filesizeformat(used)} of the "
            f"{filesizeformat(settings.UPLOAD_QUOTA_BYTES)} each user may store (UPLOAD_QUOTA_BYTES). "
            "Nothing was stored; delete documents you no longer need, or ask the operator for more.")


def too_large_message(name: str) -> str:
    return (f"“{name}” is larger than {filesizeformat(settings.INGEST_MAX_FILE_BYTES)}, the limit for one file "
            "(INGEST_MAX_FILE_BYTES). Nothing was stored.")


def upload_refusal(request) -> str:
    """Why the upload of this request was refused ("" if it was not); read request.FILES first."""
    return getattr(request, "upload_refusal", "")


class LimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        user = getattr(self.request, "user", None)
        self.quota_left = None
        if settings.UPLOAD_QUOTA_BYTES and user is not None and user.is_authenticated:
            self.used = stored_upload_bytes(user)
            self.quota_left = settings.UPLOAD_QUOTA_BYTES - self.used
        self.request_bytes = 0

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if self.quota_left is not None and self.quota_left <= 0:
            self._refuse(quota_message(self.used))
        if content_length is not None and content_length > settings.INGEST_MAX_FILE_BYTES:
            self._refuse(too_large_message(file_name))

    def receive_data_chunk(self, raw_data, start):
        self.request_bytes += len(raw_data)
        if start + len(raw_data) > settings.INGEST_MAX_FILE_BYTES:
            self._refuse(too_large_message(self.file_name))
        if self.quota_left is not None and self.request_bytes > self.quota_left:
            self._refuse(quota_message(self.used))
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the uploaded file

    def _refuse(self, message: str):
        self.request.upload_refusal = message
        # Read (and drop) the rest of the body, so that the client gets the 413 and its message.
        raise StopUpload(connection_reset=False)


def queue_upload(*, owner, uploaded_file) -> Document:
    """Store an uploaded file and queue its ingestion; returns at once with the document queued."""
    name = uploaded_file.name.rsplit("/", 1)[-1]
    document = Document.objects.create(
        owner=owner,
        source=Document.Source.UPLOAD,
        source_id=uuid.uuid4().hex,
        title=name,
        mime_type=guess_mime_type(name, getattr(uploaded_file, "content_type", "")),
        size_bytes=uploaded_file.size,
        file=uploaded_file,
        state=Document.State.QUEUED,
    )
    enqueue_ingestion(document.pk)
    return document
