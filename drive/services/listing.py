"""The listing half of a sync, in bounded slices. The first slice plans the run: the scope (chosen
folders and everything below them), a full listing or the changes feed, and the list of queries
(`SyncRun.plan`). Each later page is committed together with the items it found and the page token
the query has reached, so a killed or restarted listing goes on from the last page it saved.

- Full listing: `files.list` per query. The scope is split into queries naming at most
  PARENTS_PER_QUERY folders (`'<id>' in parents or ...`) and, with shared drives, one corpus per
  query (`user` for My Drive, `drive` + `driveId` for each shared drive) as Google advises when a
  search over `allDrives` comes back incomplete. The changes cursor is taken first; it is stored,
  and Drive documents the listing did not return are removed, only if the listing was complete.
- Changes: `changes.list` from the connection's cursor (folders that joined the scope are listed
  first). A cursor Google refuses (HTTP 400/410) turns the run into a full listing. Files marked
  to be fetched again (drive.services.refetch) are queued when the run is planned, since the
  changes feed does not name an unchanged file.
- Google's own signals: a page with `incompleteSearch` or a refused page token restarts that
  query from its first page (LISTING_RESTARTS times, then the listing is reported incomplete); a
  page token handed back again is a loop: that query stops and the run reports it.
"""
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models.functions import Now
from googleapiclient.errors import HttpError

from drive.models import SyncItem, SyncRun
from drive.selectors import drive_documents
from drive.services import refetch, runs
from drive.services.budget import Budget
from drive.services.files import (
    FILE_FIELDS,
    current_documents,
    estimate_chunks,
    is_supported,
    update_metadata,
)
from drive.services.folders import FOLDER_MIME_TYPE, list_folders, shared_drive_tops
from drive.services.google_api import (
    GoogleUnavailable,
    GrantRevoked,
    OutOfTime,
    describe,
    execute,
    time_bound,
)

logger = logging.getLogger(__name__)

FILES_QUERY = f"trashed = false and mimeType != '{FOLDER_MIME_TYPE}'"
# Folders per files.list query: keeps the query string near 2 kB however many folders the scope holds.
PARENTS_PER_QUERY = 40
LISTING_RESTARTS = 2
RECENT_TOKENS = 20  # page tokens remembered per query to recognise a loop

_QUEUE_ITEMS = """
    INSERT INTO drive_syncitem (run_id, file_id, file, action, state, outcome, estimated_chunks, attempts, error)
    SELECT %(run)s, r.file_id, r.file, r.action, r.state, r.outcome, r.estimated_chunks, 0, ''
      FROM jsonb_to_recordset(%(rows)s::jsonb)
           AS r(file_id text, file jsonb, action text, state text, outcome text, estimated_chunks int)
    ON CONFLICT (run_id, file_id) DO UPDATE
       SET file = EXCLUDED.file, action = EXCLUDED.action, state = EXCLUDED.state, outcome = EXCLUDED.outcome,
           estimated_chunks = EXCLUDED.estimated_chunks, attempts = 0, error = '', claim = NULL,
           lease_until = NULL, finished_at = NULL
     WHERE (drive_syncitem.file, drive_syncitem.action) IS DISTINCT FROM (EXCLUDED.file, EXCLUDED.action)
"""
# After a complete full listing: every Drive document of the owner it did not return goes.
_QUEUE_PRUNING = """
    INSERT INTO drive_syncitem (run_id, file_id, file, action, state, outcome, estimated_chunks, attempts, error)
    SELECT %(run)s, d.source_id, jsonb_build_object('id', d.source_id, 'name', d.title), 'remove', 'queued', '', 0, 0, ''
      FROM chunks_document d
     WHERE d.owner_id = %(owner)s AND d.source = 'drive'
       AND NOT EXISTS (SELECT 1 FROM drive_syncitem i WHERE i.run_id = %(run)s AND i.file_id = d.source_id)
    ON CONFLICT (run_id, file_id) DO NOTHING
"""


@dataclass
class SliceResult:
    pages: int = 0
    queued: int = 0  # items added or changed
    more: bool = False  # the listing goes on in another slice
    stale: bool = False  # another listing task holds the ticket now
    seconds: float = 0.0  # how long the slice worked (the django-q2 task result shows it)


@dataclass
class Page:
    """What one Google page means for the run: files to bring up to date, ids to remove."""
    files: list
    removals: list


def list_slice(*, run_id: int, ticket=None, budget: Budget | None = None, on_queued=None) -> SliceResult:
    """List up to DRIVE_LISTING_PAGES_PER_TASK pages within the budget. `ticket`: the task's
    listing ticket (None: the caller runs the sync inline). `on_queued()` runs after each page
    that queued work (the task layer starts processing lanes there)."""
    budget = budget or Budget.for_task()
    result = SliceResult()
    run = SyncRun.objects.select_related("connection__user").get(pk=run_id)
    if run.phase not in (SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING) or run.listing_done:
        return result
    if ticket is not None and run.listing_ticket != ticket:
        result.stale = True
        return result
    service = runs.google_service(run)
    if service is None:
        return result
    try:
        with time_bound(budget.hard_deadline):
            if not run.kind and _plan(service, run, ticket) and on_queued:
                on_queued()
            while result.pages < settings.DRIVE_LISTING_PAGES_PER_TASK and budget.left() > 0:
                entry = next((e for e in run.plan if not e["done"]), None)
                if entry is None:
                    break
                page = _next_page(service, run, entry)
                queued = _commit(run, ticket, page)
                if queued is None:
                    result.stale = True
                    return result
                result.pages += 1
                result.queued += queued
                if queued and on_queued:
                    on_queued()
    except OutOfTime:
        pass  # a retry would pass the bound: the next slice goes on from the saved page
    except (GrantRevoked, GoogleUnavailable) as error:
        runs.on_google_failure(run_id, error)
        return result
    except HttpError as error:
        runs.stop(run_id, f"Google Drive refused the listing ({describe(error)}); nothing more was listed.")
        return result
    runs.touch(run_id)
    result.seconds = round(budget.elapsed(), 2)
    if any(not e["done"] for e in run.plan):
        result.more = True
    elif not run.listing_done:  # the last query ended on a page that queued nothing new
        _commit(run, ticket, None)
    runs.finish_if_complete(run_id)
    return result


# --- planning ------------------------------------------------------------------------------------

def needs_full_listing(connection, scope: set[str] | None) -> bool:
    """The changes API cannot tell which files left the scope when folders did (or when the
    whole Drive became folders, or back): then only a full listing brings the index in line."""
    synced = connection.synced_scope
    if (scope is None) != (synced is None):
        return True
    return scope is not None and bool(set(synced) - scope)


def _plan(service, run: SyncRun, ticket) -> int:
    """Plan the run's listing and queue the files marked to be fetched again. Returns how many."""
    connection = run.connection
    tree = list_folders(service, include_shared_drives=connection.include_shared_drives) if connection.folder_ids else None
    scope = tree.descendants(connection.folder_ids) if tree is not None else None
    run.scope = None if scope is None else sorted(scope)
    if connection.changes_page_token and not needs_full_listing(connection, scope):
        run.kind = SyncRun.Kind.CHANGES
        joined = scope - set(connection.synced_scope) if scope is not None else set()
        # Folders created or moved in (with files the changes feed does not mention) are listed first.
        run.plan = _file_queries(service, run, joined, tree) if joined else []
        run.plan.append(_entry("changes", changes=True, page_token=connection.changes_page_token))
    else:
        _plan_full_listing(service, run, scope, tree)
    # A full listing names the marked files itself (and removes those that left the scope).
    queued = refetch.queue_marked(run) if run.kind == SyncRun.Kind.CHANGES else 0
    _commit(run, ticket, None)
    return queued


def _plan_full_listing(service, run: SyncRun, scope, tree) -> None:
    # Take the cursor first: changes made during the listing are replayed by the next sync.
    run.kind = SyncRun.Kind.FULL
    run.start_page_token = execute(service.changes().getStartPageToken(supportsAllDrives=True))["startPageToken"]
    run.plan = _file_queries(service, run, scope, tree)


def _entry(label, *, changes=False, page_token=None, q=None, drive_id=None) -> dict:
    return {"label": label, "changes": changes, "q": q, "drive_id": drive_id, "page_token": page_token,
            "done": False, "restarts": 0, "recent": [], "pages": 0}


def _file_queries(service, run: SyncRun, parents: set[str] | None, tree) -> list[dict]:
    """files.list queries covering `parents` (None: everything), one corpus each."""
    if not run.connection.include_shared_drives:
        groups = {None: parents}
    else:
        shared = [top.id for top in shared_drive_tops(service)]
        if parents is None:
            groups = {None: None, **{drive: None for drive in shared}}
        else:
            groups = {}
            for folder in parents:
                known = tree.folders.get(folder) if tree is not None else None
                drive = folder if folder in shared else (known.drive_id if known else None)
                groups.setdefault(drive, set()).add(folder)
    entries = []
    for drive, folders in groups.items():
        where = f"shared drive {drive}" if drive else "My Drive"
        queries = _files_queries(folders)
        for number, query in enumerate(queries, 1):
            label = where if len(queries) == 1 else f"{where}, folders {number} of {len(queries)}"
            entries.append(_entry(label, q=query, drive_id=drive))
    return entries


def _quoted(folder_id: str) -> str:
    return "'" + folder_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _files_queries(parents: set[str] | None) -> list[str]:
    if parents is None:
        return [FILES_QUERY]
    ordered = sorted(parents)
    batches = [ordered[i:i + PARENTS_PER_QUERY] for i in range(0, len(ordered), PARENTS_PER_QUERY)]
    return [FILES_QUERY + " and (" + " or ".join(f"{_quoted(f)} in parents" for f in batch) + ")" for batch in batches]


# --- one page ------------------------------------------------------------------------------------

def _next_page(service, run: SyncRun, entry: dict) -> Page:
    """Fetch the entry's next page and move the entry on (in memory; `_commit` saves it)."""
    try:
        page = _changes_page(service, run, entry) if entry["changes"] else _files_page(service, run, entry)
    except HttpError as error:
        status = error.resp.status
        if entry["changes"] and status in (400, 410):
            runs.note(run, f"Google refused the stored changes cursor ({describe(error)}); the whole scope "
                           "is listed again.")
            scope = None if run.scope is None else set(run.scope)
            tree = list_folders(service, include_shared_drives=run.connection.include_shared_drives) if scope else None
            _plan_full_listing(service, run, scope, tree)
            return Page([], [])
        if status == 400 and entry["page_token"]:
            _restart(run, entry, f"Google refused the saved page token of {entry['label']}")
            return Page([], [])
        if status in (403, 404) and entry["drive_id"]:  # a shared drive removed or no longer shared
            _give_up(run, entry, f"{entry['label']} could not be listed ({describe(error)})")
            return Page([], [])
        raise
    entry["pages"] += 1
    return page


def _files_page(service, run: SyncRun, entry: dict) -> Page:
    kwargs = {"q": entry["q"], "pageSize": settings.DRIVE_PAGE_SIZE,
              "fields": f"nextPageToken, incompleteSearch, files({FILE_FIELDS})"}
    if entry["drive_id"]:
        kwargs.update(corpora="drive", driveId=entry["drive_id"], includeItemsFromAllDrives=True,
                      supportsAllDrives=True)
    if entry["page_token"]:
        kwargs["pageToken"] = entry["page_token"]
    page = execute(service.files().list(**kwargs))
    files = [f for f in page.get("files", []) if is_supported(f)]
    if page.get("incompleteSearch"):
        _restart(run, entry, f"Google answered that its listing of {entry['label']} was incomplete (incompleteSearch)")
    else:
        _advance(run, entry, page.get("nextPageToken"))
    return Page(files, [])


def _changes_page(service, run: SyncRun, entry: dict) -> Page:
    shared = {"supportsAllDrives": True, "includeItemsFromAllDrives": True} if run.connection.include_shared_drives else {}
    page = execute(service.changes().list(
        pageToken=entry["page_token"], pageSize=settings.DRIVE_PAGE_SIZE, includeRemoved=True, spaces="drive",
        fields=f"nextPageToken, newStartPageToken, changes(fileId, removed, file({FILE_FIELDS}))", **shared))
    scope = None if run.scope is None else set(run.scope)
    files, removals = [], []
    for change in page.get("changes", []):
        file = change.get("file")
        if change.get("removed") or file is None or file.get("trashed") or not _in_scope(scope, file):
            removals.append(change["fileId"])
        elif is_supported(file):
            files.append(file)
    next_token = page.get("nextPageToken")
    if next_token:
        _advance(run, entry, next_token)
    else:
        entry["done"] = True
        run.new_changes_token = page["newStartPageToken"]
    return Page(files, removals)


def _in_scope(scope: set[str] | None, file: dict) -> bool:
    return scope is None or bool(set(file.get("parents") or []) & scope)


def _advance(run: SyncRun, entry: dict, next_token: str | None) -> None:
    if next_token is None:
        entry["done"], entry["page_token"] = True, None
        return
    if next_token == entry["page_token"] or next_token in entry["recent"]:
        _give_up(run, entry, f"Google handed back a page token of {entry['label']} it had already given; "
                             "that part of the listing stopped there rather than loop")
        return
    entry["recent"] = (entry["recent"] + [next_token])[-RECENT_TOKENS:]
    entry["page_token"] = next_token


def _restart(run: SyncRun, entry: dict, why: str) -> None:
    """Google's advice for a rejected token or an incomplete search: start that listing again."""
    if entry["restarts"] >= LISTING_RESTARTS:
        _give_up(run, entry, f"{why}, {entry['restarts'] + 1} times")
        return
    entry["restarts"] += 1
    entry["page_token"], entry["recent"] = None, []
    logger.info("Drive sync %s: %s; listing it again from the start", run.pk, why)


def _give_up(run: SyncRun, entry: dict, why: str) -> None:
    entry["done"] = True
    run.listing_complete = False
    runs.note(run, f"Listing incomplete: {why}. Nothing was removed for it; the next sync lists again.")
    logger.warning("Drive sync %s: %s", run.pk, why)


# --- committing a page ---------------------------------------------------------------------------

def _commit(run: SyncRun, ticket, page: Page | None) -> int | None:
    """Save the run's listing state with the page's items in one transaction. Returns the items
    queued, or None when this slice must stop (another listing task took over, or the run ended)."""
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        if locked.phase not in (SyncRun.Phase.LISTING, SyncRun.Phase.PROCESSING):
            return None  # stopped or waiting meanwhile (a processing task met a revoked grant)
        if ticket is not None and locked.listing_ticket != ticket:
            return None
        queued = _queue(run, page) if page is not None else 0
        fields = ["kind", "scope", "plan", "start_page_token", "new_changes_token", "listing_complete", "last_error",
                  "pages_listed", "heartbeat_at"]
        run.pages_listed = locked.pages_listed + (page is not None)
        run.heartbeat_at = Now()
        if run.kind and all(e["done"] for e in run.plan):
            run.listing_done = True
            fields.append("listing_done")
            if run.kind == SyncRun.Kind.FULL and run.listing_complete:
                with db.cursor() as cursor:
                    cursor.execute(_QUEUE_PRUNING, {"run": run.pk, "owner": run.connection.user_id})
                    queued += cursor.rowcount
            if locked.phase == SyncRun.Phase.LISTING:
                run.phase = SyncRun.Phase.PROCESSING
                fields.append("phase")
        run.save(update_fields=fields)
    run.refresh_from_db(fields=["heartbeat_at"])
    return queued


def _queue(run: SyncRun, page: Page) -> int:
    """Upsert the page's items. Files whose indexed copy is current are done at once (their
    title and link updated); removals only for files that have a Document."""
    owner = run.connection.user
    files = list({f["id"]: f for f in page.files}.values())
    current = current_documents(owner=owner, files=files)
    rows = {}
    for file in files:
        if file["id"] in current:
            update_metadata(current[file["id"]], file)
        rows[file["id"]] = {"file_id": file["id"], "file": file, "action": SyncItem.Action.INGEST,
                            "state": SyncItem.State.DONE if file["id"] in current else SyncItem.State.QUEUED,
                            "outcome": SyncItem.Outcome.SKIPPED if file["id"] in current else "",
                            "estimated_chunks": estimate_chunks(file)}
    indexed = set(drive_documents(owner).filter(source_id__in=page.removals).values_list("source_id", flat=True))
    for file_id in indexed:
        rows[file_id] = {"file_id": file_id, "file": {"id": file_id}, "action": SyncItem.Action.REMOVE,
                         "state": SyncItem.State.QUEUED, "outcome": "", "estimated_chunks": 0}
    if not rows:
        return 0
    with db.cursor() as cursor:
        cursor.execute(_QUEUE_ITEMS, {"run": run.pk, "rows": json.dumps(list(rows.values()))})
        changed = cursor.rowcount
    return min(changed, sum(row["state"] == SyncItem.State.QUEUED for row in rows.values()))
