"""Sync one connection: a full listing the first time, then the changes API from the stored
cursor. The cursor is saved only after a page's documents are committed, so a crash re-reads
that page instead of losing it. One unreadable file never aborts the run; a revoked grant stops
the run and asks the user to reconnect (no retries: the schedule skips non-connected Drives)."""
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from googleapiclient.errors import HttpError

from drive.models import DriveConnection
from drive.services.files import (
    FILE_FIELDS, drive_documents, ingest_file, is_supported, record_failure, remove_file,
)
from drive.services.google_api import GrantRevoked, drive_service, execute
from drive.services.tokens import refresh_token_or_flag
from ragbase.metrics import DRIVE_SYNC_ERRORS

logger = logging.getLogger(__name__)

REVOKED_MESSAGE = "Google refused the stored access (revoked or expired); please reconnect Google Drive."


@dataclass
class SyncResult:
    ingested: int = 0
    skipped: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""


def sync_connection(*, connection_id: int) -> SyncResult:
    connection = DriveConnection.objects.select_related("user").get(pk=connection_id)
    result = SyncResult()
    if connection.status != DriveConnection.Status.CONNECTED:
        result.stopped = f"not connected ({connection.status})"
        return result
    refresh_token = refresh_token_or_flag(connection)
    if refresh_token is None:
        result.stopped = "credentials unreadable"
        return result
    service = drive_service(refresh_token)
    try:
        if connection.changes_page_token:
            _sync_changes(service, connection, result)
        else:
            _full_listing(service, connection, result)
    except GrantRevoked:
        connection.mark_needs_reconnect(REVOKED_MESSAGE)
        result.stopped = "grant revoked"
    except HttpError as error:
        result.stopped = f"Drive API error HTTP {error.resp.status}"
    connection.last_sync_at = timezone.now()
    connection.files_indexed = drive_documents(connection.user).filter(state__in=["ready", "empty"]).count()
    connection.files_failed = drive_documents(connection.user).filter(state="failed").count()
    connection.last_error = "\n".join(([result.stopped] if result.stopped else []) + result.errors[-20:])
    connection.save(update_fields=["last_sync_at", "files_indexed", "files_failed", "last_error", "updated_at"])
    if result.stopped or result.errors:
        DRIVE_SYNC_ERRORS.inc()
    logger.info("Drive sync of connection %s: %s", connection.pk, result)
    return result


def _list_kwargs(connection) -> dict:
    if not connection.include_shared_drives:
        return {}
    return {"supportsAllDrives": True, "includeItemsFromAllDrives": True, "corpora": "allDrives"}


def _in_scope(connection, file: dict) -> bool:
    return not connection.folder_ids or bool(set(file.get("parents") or []) & set(connection.folder_ids))


def _handle_file(service, connection, file: dict, result: SyncResult) -> None:
    if not is_supported(file):
        return
    try:
        outcome = ingest_file(service=service, owner=connection.user, file=file)
    except GrantRevoked:
        raise
    except Exception as error:  # one unreadable file never aborts the run
        logger.warning("Drive file %s failed: %s", file.get("id"), error.__class__.__name__)
        record_failure(owner=connection.user, file=file, error=f"Could not read the file: {error}"[:2000])
        outcome = "failed"
    setattr(result, outcome, getattr(result, outcome) + 1)
    if outcome == "failed":
        result.errors.append(f"{file.get('name')}: failed")


def _full_listing(service, connection, result: SyncResult) -> None:
    # Take the cursor first: changes made during the listing are replayed next time.
    start_token = execute(service.changes().getStartPageToken(supportsAllDrives=True))["startPageToken"]
    query = "trashed = false and mimeType != 'application/vnd.google-apps.folder'"
    if connection.folder_ids:
        query += " and (" + " or ".join(f"'{folder}' in parents" for folder in connection.folder_ids) + ")"
    page_token = None
    while True:
        page = execute(service.files().list(
            q=query, pageSize=settings.DRIVE_PAGE_SIZE, pageToken=page_token,
            fields=f"nextPageToken, files({FILE_FIELDS})", **_list_kwargs(connection)))
        for file in page.get("files", []):
            _handle_file(service, connection, file, result)
        page_token = page.get("nextPageToken")
        if not page_token:
            break
    connection.changes_page_token = start_token
    connection.save(update_fields=["changes_page_token", "updated_at"])


def _sync_changes(service, connection, result: SyncResult) -> None:
    page_token = connection.changes_page_token
    while page_token:
        page = execute(service.changes().list(
            pageToken=page_token, pageSize=settings.DRIVE_PAGE_SIZE, includeRemoved=True, spaces="drive",
            fields=f"nextPageToken, newStartPageToken, changes(fileId, removed, file({FILE_FIELDS}))",
            **({"supportsAllDrives": True, "includeItemsFromAllDrives": True}
               if connection.include_shared_drives else {})))
        for change in page.get("changes", []):
            file = change.get("file")
            if change.get("removed") or file is None or file.get("trashed") or not _in_scope(connection, file):
                if remove_file(owner=connection.user, file_id=change["fileId"]):
                    result.removed += 1
            else:
                _handle_file(service, connection, file, result)
        # This page's documents are committed (ingestion commits per file): now move the cursor.
        page_token = page.get("nextPageToken")
        connection.changes_page_token = page_token or page["newStartPageToken"]
        connection.save(update_fields=["changes_page_token", "updated_at"])
