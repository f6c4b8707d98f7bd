"""One Drive file: which kinds are indexed, whether the indexed copy is current (decided before
downloading), the bounded download or export, failures recorded on the Document, removal.

Unchanged = the same modifiedTime, or (binary files) the same md5Checksum as the bytes last
ingested. A file skipped on its md5 still gets its new title, link and modified time."""
import io
from datetime import datetime

from django.conf import settings
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

from chunks.models import Document
from chunks.outbox.enqueue import delete_document
from drive.models import DriveFile
from drive.selectors import drive_documents
from drive.services.google_api import describe, error_reasons, execute

# Google-native type → the formats it is exported as, in order of preference. Docs as HTML: its
# <h1>-<h6> are the document's headings, so passages get their section (text/plain loses them);
# a Doc whose HTML passes Google's 10 MB export limit (HTML is larger than its text) comes as text.
# Slides as text: every slide's text, and small (a PDF export, one page a slide, carries the images
# and meets the export limit with many decks). Sheets as CSV: Google exports the first sheet.
EXPORT_FORMATS = {
    "application/vnd.google-apps.document": ("text/html", "text/plain"),
    "application/vnd.google-apps.spreadsheet": ("text/csv",),
    "application/vnd.google-apps.presentation": ("text/plain",),
}
DOWNLOADABLE = {
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/markdown",
    "text/html",
    "text/csv",
}
FILE_FIELDS = "id,name,mimeType,modifiedTime,md5Checksum,size,parents,trashed,webViewLink,driveId"
# One Range request of a download: httplib2 holds a whole response in memory, so this (not the
# file) is what a download costs at a time.
DOWNLOAD_CHUNK_BYTES = 4 * 1024 * 1024
# Google-native files are listed without a size: assume a few pages of text.
UNKNOWN_SIZE_CHUNKS = 4


def is_supported(file: dict) -> bool:
    return file.get("mimeType") in EXPORT_FORMATS or file.get("mimeType") in DOWNLOADABLE


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def remove_file(*, owner, file_id: str) -> bool:
    removed = False
    for document in drive_documents(owner).filter(source_id=file_id):
        delete_document(document=document)
        removed = True
    return removed


def current_documents(*, owner, files: list[dict]) -> dict[str, Document]:
    """The Documents (by file id) whose indexed content is the file's current one: nothing to
    download. One whose content hash was cleared is to be fetched again (drive.services.refetch)."""
    documents = {d.source_id: d for d in drive_documents(owner).filter(
        source_id__in=[f["id"] for f in files], state__in=Document.INDEXED_STATES).exclude(content_hash="")}
    md5s = dict(DriveFile.objects.filter(document__in=list(documents.values())).values_list("document_id", "md5_checksum"))
    current = {}
    for file in files:
        document = documents.get(file["id"])
        if document is None:
            continue
        md5 = file.get("md5Checksum")
        if document.modified_at == parse_time(file.get("modifiedTime")) or (md5 and md5s.get(document.pk) == md5):
            current[file["id"]] = document
    return current


def update_metadata(document: Document, file: dict) -> None:
    """Title, link and modified time from Drive, without touching content or chunks."""
    values = {"title": file.get("name", file["id"])[:1024], "url": file.get("webViewLink", ""),
              "modified_at": parse_time(file.get("modifiedTime"))}
    changed = [name for name, value in values.items() if getattr(document, name) != value]
    for name in changed:
        setattr(document, name, values[name])
    if changed:
        document.save(update_fields=[*changed, "updated_at"])


def record_failure(*, owner, file: dict, error: str) -> Document:
    document, _ = Document.objects.update_or_create(
        owner=owner, source=Document.Source.DRIVE, source_id=file["id"],
        defaults={"title": file.get("name", file["id"]), "mime_type": file.get("mimeType", ""),
                  "url": file.get("webViewLink", ""), "state": Document.State.FAILED, "error": error},
    )
    return document


class FileUnreadable(Exception):
    """This file alone cannot be indexed; the message says why (shown to the user)."""


class _BoundedBuffer(io.BytesIO):
    """Collects a download and refuses to grow past `limit` bytes."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, data) -> int:
        if self.tell() + len(data) > self.limit:
            raise FileUnreadable(f"The download passed the {self.limit:,}-byte limit (DRIVE_MAX_FILE_BYTES); "
                                 "it was stopped there.")
        return super().write(data)


def estimate_chunks(file: dict) -> int:
    """Roughly how many chunks a file makes, from its size (batches are sized by this). About 4
    characters a token; PDF and DOCX bytes are mostly not text."""
    size = int(file.get("size") or 0)
    if not size:
        return UNKNOWN_SIZE_CHUNKS
    text_share = 1.0 if file.get("mimeType") in EXPORT_FORMATS or str(file.get("mimeType")).startswith("text/") else 0.2
    return max(1, round(size * text_share / (4 * settings.CHUNK_SIZE_TOKENS)))


def download(files, file: dict) -> tuple[bytes, str]:
    """The file's bytes and their mime type (Google-native files exported), streamed in chunks
    into a buffer bounded by DRIVE_MAX_FILE_BYTES. `files`: the service's files() resource (made
    once: googleapiclient builds it from the discovery document each time). Raises FileUnreadable
    for a file that fails alone; GoogleUnavailable, OutOfTime and GrantRevoked concern the run."""
    if file["mimeType"] in EXPORT_FORMATS:
        for mime_type in EXPORT_FORMATS[file["mimeType"]]:
            try:
                return _fetch(files.export(fileId=file["id"], mimeType=mime_type)), mime_type
            except _ExportTooLarge:
                continue  # the next format, if any, is smaller
        raise FileUnreadable("Google Drive cannot export this file: it is over Google's 10 MB export limit "
                             "(exportSizeLimitExceeded).")
    size = int(file.get("size") or 0)
    if size > settings.DRIVE_MAX_FILE_BYTES:
        raise FileUnreadable(f"File is {size} bytes, over the {settings.DRIVE_MAX_FILE_BYTES}-byte limit "
                             "(DRIVE_MAX_FILE_BYTES).")
    return _fetch(files.get_media(fileId=file["id"], supportsAllDrives=True)), file["mimeType"]


class _ExportTooLarge(Exception):
    pass


def _fetch(request) -> bytes:
    buffer = _BoundedBuffer(settings.DRIVE_MAX_FILE_BYTES)
    downloader = MediaIoBaseDownload(buffer, request, chunksize=DOWNLOAD_CHUNK_BYTES)
    done = False
    try:
        while not done:
            _, done = execute(downloader.next_chunk)
    except HttpError as error:
        if "exportSizeLimitExceeded" in error_reasons(error):
            raise _ExportTooLarge from None
        raise FileUnreadable(f"Could not read the file ({describe(error)}).") from None
    return buffer.getvalue()
