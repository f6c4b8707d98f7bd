"""One Drive file → ingestion: export Google-native formats, download the rest, skip what is
unchanged (compared before downloading) or too large, remove what is gone.

Unchanged = the same modifiedTime, or (binary files) the same md5Checksum as the bytes last
ingested. A file skipped on its md5 still gets its new title, link and modified time."""
import hashlib
from datetime import datetime

from django.conf import settings

from chunks.deletions import delete_document
from chunks.models import Document
from chunks.services.ingestion import ingest_content
from drive.models import DriveFile
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


def unchanged_document(*, owner, file: dict) -> Document | None:
    """The file's Document if its content is known to be the one indexed (nothing to download)."""
    document = drive_documents(owner).filter(source_id=file["id"]).first()
    if document is None or document.state not in (Document.State.READY, Document.State.EMPTY):
        return None
    if document.modified_at == parse_time(file.get("modifiedTime")):
        return document
    md5 = file.get("md5Checksum")
    if md5 and DriveFile.objects.filter(document=document, md5_checksum=md5).exists():
        return document
    return None


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


def fetch_content(service, file: dict) -> tuple[bytes, str]:
    """The file's bytes and their mime type (exported for Google-native files)."""
    mime_type = file["mimeType"]
    if mime_type in EXPORT_FORMATS:
        export_type = EXPORT_FORMATS[mime_type]
        return execute(service.files().export(fileId=file["id"], mimeType=export_type)), export_type
    return execute(service.files().get_media(fileId=file["id"], supportsAllDrives=True)), mime_type


def ingest_file(*, service, owner, file: dict) -> str:
    """Bring one file up to date. Returns "skipped", "ingested" or "failed"."""
    unchanged = unchanged_document(owner=owner, file=file)
    if unchanged is not None:
        update_metadata(unchanged, file)
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
    # The md5 of the bytes ingested (not of the listing: the file may have changed since).
    md5 = "" if file["mimeType"] in EXPORT_FORMATS else hashlib.md5(content, usedforsecurity=False).hexdigest()
    DriveFile.objects.update_or_create(document=document, defaults={"md5_checksum": md5})
    return "failed" if document.state == Document.State.FAILED else "ingested"
