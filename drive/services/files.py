"""One Drive file → ingestion: export Google-native formats, download the rest, skip what is
unchanged (compared before downloading) or too large, remove what is gone."""
from datetime import datetime

from django.conf import settings

from chunks.deletions import delete_document
from chunks.models import Document
from chunks.services.ingestion import ingest_content
from drive.services.google_api import execute

# Google-native type → the format it is exported as.
EXPORT_FORMATS = {
    "application/vnd.google-apps.document": "text/plain",
    "application/vnd.google-apps.spreadsheet": "text/csv",
    "application/vnd.google-apps.presentation": "text/plain",
}
DOWNLOADABLE = {
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/markdown",
    "text/html",
    "text/csv",
}
FILE_FIELDS = "id,name,mimeType,modifiedTime,md5Checksum,size,parents,trashed,webViewLink"


def is_supported(file: dict) -> bool:
    return file.get("mimeType") in EXPORT_FORMATS or file.get("mimeType") in DOWNLOADABLE


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def drive_documents(owner):
    return Document.objects.filter(owner=owner, source=Document.Source.DRIVE)


def remove_file(*, owner, file_id: str) -> bool:
    removed = False
    for document in drive_documents(owner).filter(source_id=file_id):
        delete_document(document=document)
        removed = True
    return removed


def is_unchanged(*, owner, file: dict) -> bool:
    document = drive_documents(owner).filter(source_id=file["id"]).first()
    return (
        document is not None
        and document.modified_at == parse_time(file.get("modifiedTime"))
        and document.state in (Document.State.READY, Document.State.EMPTY)
    )


def record_failure(*, owner, file: dict, error: str) -> Document:
    document, _ = Document.objects.update_or_create(
        owner=owner, source=Document.Source.DRIVE, source_id=file["id"],
        defaults={"title": file.get("name", file["id"]), "mime_type": file.get("mimeType", ""),
                  "url": file.get("webViewLink", ""), "state": Document.State.FAILED, "error": error},
    )
    return document


def fetch_content(service, file: dict) -> tuple[bytes, str]:
    """The file's bytes and their mime type (exported for Google-native files)."""
    mime_type = file["mimeType"]
    if mime_type in EXPORT_FORMATS:
        export_type = EXPORT_FORMATS[mime_type]
        return execute(service.files().export(fileId=file["id"], mimeType=export_type)), export_type
    return execute(service.files().get_media(fileId=file["id"], supportsAllDrives=True)), mime_type


def ingest_file(*, service, owner, file: dict) -> str:
    """Bring one file up to date. Returns "skipped", "ingested" or "failed"."""
    if is_unchanged(owner=owner, file=file):
        return "skipped"
    size = int(file.get("size") or 0)
    if size > settings.DRIVE_MAX_FILE_BYTES:
        record_failure(owner=owner, file=file,
                       error=f"File is {size} bytes, over the {settings.DRIVE_MAX_FILE_BYTES}-byte limit.")
        return "failed"
    content, mime_type = fetch_content(service, file)
    if len(content) > settings.DRIVE_MAX_FILE_BYTES:
        record_failure(owner=owner, file=file, error="Exported file is over the size limit.")
        return "failed"
    document = ingest_content(
        owner=owner, source=Document.Source.DRIVE, source_id=file["id"], title=file.get("name", file["id"]),
        mime_type=mime_type, content=content, url=file.get("webViewLink", ""),
        modified_at=parse_time(file.get("modifiedTime")),
    )
    return "failed" if document.state == Document.State.FAILED else "ingested"
