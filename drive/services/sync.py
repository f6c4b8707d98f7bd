"""Sync one connection: a full listing the first time, then the changes API from the stored
cursor. The cursor is saved only after a page's documents are committed, so a crash re-reads
that page instead of losing it. One unreadable file never aborts the run; a revoked grant stops
the run and asks the user to reconnect (no retries: the schedule skips non-connected Drives).

Chosen folders include everything below them: each run lists the folders once and expands the
choice to its descendants (`folder_scope`). Folders that joined the scope since the last run
(created, or moved in with their files) have their files listed; a scope that lost folders gets
a full listing, which removes every document the listing did not return."""
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from googleapiclient.errors import HttpError

from drive.models import DriveConnection
from drive.services.files import (
    FILE_FIELDS, drive_documents, ingest_file, is_supported, record_failure, remove_file,
)
from drive.services.folders import FOLDER_MIME_TYPE, folder_scope
from drive.services.google_api import GrantRevoked, all_drives_kwargs, drive_service, execute, pages
from drive.services.tokens import REVOKED_MESSAGE, refresh_token_or_flag
from ragbase.metrics import DRIVE_SYNC_ERRORS

logger = logging.getLogger(__name__)

FILES_QUERY = f"trashed = false and mimeType != '{FOLDER_MIME_TYPE}'"
# Folders per files.list query ("'<id>' in parents or ..."): keeps the query string near 2 kB
# however many folders the scope holds; a larger scope is listed in several queries.
PARENTS_PER_QUERY = 40


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
        scope = folder_scope(service, connection)
        if connection.changes_page_token and not _needs_full_listing(connection, scope):
            _sync_changes(service, connection, scope, result)
        else:
            _full_listing(service, connection, scope, result)
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


def _in_scope(scope: set[str] | None, file: dict) -> bool:
    return scope is None or bool(set(file.get("parents") or []) & scope)


def _needs_full_listing(connection, scope: set[str] | None) -> bool:
    """The changes API cannot tell which files left the scope when folders did (or when the
    whole Drive became folders, or back): then only a full listing brings the index in line."""
    synced = connection.synced_scope
    if (scope is None) != (synced is None):
        return True
    return scope is not None and bool(set(synced) - scope)


def _quoted(folder_id: str) -> str:
    return "'" + folder_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _files_queries(parents: set[str] | None) -> list[str]:
    if parents is None:
        return [FILES_QUERY]
    ordered = sorted(parents)
    batches = [ordered[i:i + PARENTS_PER_QUERY] for i in range(0, len(ordered), PARENTS_PER_QUERY)]
    return [FILES_QUERY + " and (" + " or ".join(f"{_quoted(f)} in parents" for f in batch) + ")" for batch in batches]


def _list_files(service, connection, parents: set[str] | None, result: SyncResult) -> tuple[set[str], bool]:
    """Handle every file directly inside `parents` (None: anywhere). Returns the ids listed and
    whether Drive called the listing complete."""
    seen, complete = set(), True
    for query in _files_queries(parents):
        for page in pages(service.files().list, q=query, pageSize=settings.DRIVE_PAGE_SIZE,
                          fields=f"nextPageToken, incompleteSearch, files({FILE_FIELDS})",
                          **all_drives_kwargs(connection.include_shared_drives)):
            complete = complete and not page.get("incompleteSearch")
            for file in page.get("files", []):
                if file["id"] not in seen:  # a file with two parents can come back in two batches
                    seen.add(file["id"])
                    _handle_file(service, connection, file, result)
    return seen, complete


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


def _full_listing(service, connection, scope: set[str] | None, result: SyncResult) -> None:
    # Take the cursor first: changes made during the listing are replayed next time.
    start_token = execute(service.changes().getStartPageToken(supportsAllDrives=True))["startPageToken"]
    seen, complete = _list_files(service, connection, scope, result)
    if complete:  # what a complete listing did not return is out of scope now (or gone)
        for file_id in set(drive_documents(connection.user).values_list("source_id", flat=True)) - seen:
            if remove_file(owner=connection.user, file_id=file_id):
                result.removed += 1
    connection.changes_page_token = start_token
    connection.synced_scope = None if scope is None else sorted(scope)
    connection.save(update_fields=["changes_page_token", "synced_scope", "updated_at"])


def _sync_changes(service, connection, scope: set[str] | None, result: SyncResult) -> None:
    joined = scope - set(connection.synced_scope) if scope is not None else set()
    if joined:  # created, or moved in with files the changes API will not mention: list them
        _list_files(service, connection, joined, result)
        connection.synced_scope = sorted(scope)
        connection.save(update_fields=["synced_scope", "updated_at"])
    page_token = connection.changes_page_token
    while page_token:
        page = execute(service.changes().list(
            pageToken=page_token, pageSize=settings.DRIVE_PAGE_SIZE, includeRemoved=True, spaces="drive",
            fields=f"nextPageToken, newStartPageToken, changes(fileId, removed, file({FILE_FIELDS}))",
            **({"supportsAllDrives": True, "includeItemsFromAllDrives": True}
               if connection.include_shared_drives else {})))
        for change in page.get("changes", []):
            file = change.get("file")
            if change.get("removed") or file is None or file.get("trashed") or not _in_scope(scope, file):
                if remove_file(owner=connection.user, file_id=change["fileId"]):
                    result.removed += 1
            else:
                _handle_file(service, connection, file, result)
        # This page's documents are committed (ingestion commits per file): now move the cursor.
        page_token = page.get("nextPageToken")
        connection.changes_page_token = page_token or page["newStartPageToken"]
        connection.save(update_fields=["changes_page_token", "updated_at"])
