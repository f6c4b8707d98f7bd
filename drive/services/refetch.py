"""Fetching chosen Drive documents again: ragbase keeps no copy of their bytes. Both
`manage.py rechunk` (a Google Doc exported as plain text comes back as HTML with heading paths)
and "re-ingest failed" on the documents page and in the API come here (registered in drive.apps).

The documents' files join the connection's sync run (started if none is active) as items to
ingest, with the metadata of their last listing: only they are downloaded, and nothing is listed
for them (the changes feed would not mention an unchanged file). An indexed document is also
marked by clearing its content hash: no processing step then treats it as current
(drive.services.files.current_documents), and a Drive that needs reconnecting gets the marked
files in its first run once reconnected (`queue_marked`, when a run of the changes feed is
planned; a full listing names them itself). Its chunks stay
searchable until the new ones replace them. The caller kicks the runs once its transaction
commits (drive.tasks)."""
import json

from django.db import connection as db
from django.db import transaction
from django.db.models import Q

from chunks.models import Document
from drive.models import DriveConnection, DriveFile, SyncItem, SyncRun
from drive.selectors import drive_documents
from drive.services import runs
from drive.services.files import estimate_chunks

GOOGLE_DOC = "application/vnd.google-apps.document"
# Exported in a form without headings: Google Docs exported as plain text (as before they came as
# HTML), and exports of a type not recorded then (a Doc or a Slides deck: fetched once to know).
LACKING_HEADINGS = (Q(drive_file__drive_mime_type=GOOGLE_DOC, mime_type="text/plain")
                    | Q(drive_file__drive_mime_type="", drive_file__md5_checksum="", mime_type="text/plain"))

# Like listing's upsert, but a file the run has already done (failed or skipped) is queued again.
_QUEUE_AGAIN = """
    INSERT INTO drive_syncitem (run_id, file_id, file, action, state, outcome, estimated_chunks, attempts, error)
    SELECT %(run)s, r.file_id, r.file, 'ingest', 'queued', '', r.estimated_chunks, 0, ''
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(file_id text, file jsonb, estimated_chunks int)
    ON CONFLICT (run_id, file_id) DO UPDATE
       SET file = EXCLUDED.file, action = 'ingest', state = 'queued', outcome = '', attempts = 0, error = '',
           claim = NULL, lease_until = NULL, finished_at = NULL
     WHERE drive_syncitem.state = 'done'
"""


def queue_again(*, documents, dry_run=False) -> tuple[dict[int, str], list[SyncRun]]:
    """Queue the Drive `documents` to be fetched again. Returns a sentence per document id saying
    what happens to it (a document left out cannot be fetched again: a failed one while its Drive
    is not connected) and the runs they joined. A dry run changes nothing."""
    by_owner: dict[int, list[Document]] = {}
    for document in documents:
        by_owner.setdefault(document.owner_id, []).append(document)
    messages, joined = {}, []
    for owner_id, owned in by_owner.items():
        connection = DriveConnection.objects.filter(user_id=owner_id).first()
        indexed = [d for d in owned if d.state in Document.INDEXED_STATES]
        if not dry_run:
            Document.objects.filter(pk__in=[d.pk for d in indexed]).update(content_hash="")
        run = started = None
        if connection is not None and connection.status == DriveConnection.Status.CONNECTED:
            if dry_run:
                started = runs.active_run(connection) is None
            else:
                run, started = _queue_in_run(connection, owned)
        if started is not None and (dry_run or run is not None):
            when = ("that would start" if dry_run else "started") if started else "running"
            messages.update({d.pk: f"to fetch again by the sync {when} now" for d in owned})
            if run is not None:
                joined.append(run)
        else:
            why = connection.get_status_display() if connection else "not connected"
            messages.update({d.pk: f"to fetch again once its owner reconnects Drive ({why})" for d in indexed})
    return messages, joined


def queue_marked(run: SyncRun) -> int:
    """Queue in `run` the owner's documents marked to be fetched again (their Drive needed
    reconnecting then, or the run they joined stopped). Returns how many items were added."""
    marked = list(drive_documents(run.connection.user).filter(state__in=Document.INDEXED_STATES, content_hash=""))
    return _queue(run, _listed_files(run.connection, marked)) if marked else 0


def _queue_in_run(connection, documents) -> tuple[SyncRun | None, bool]:
    """Add the documents' files to the connection's active run (or a new one): (run, started),
    (None, False) when the connection cannot sync now."""
    files = _listed_files(connection, documents)
    for _ in range(2):  # the run found may finish before it is locked: then a new one is started
        run, started = runs.start_or_join(connection)
        if run is None:
            return None, False
        with transaction.atomic():
            if SyncRun.objects.select_for_update().get(pk=run.pk).phase not in SyncRun.ACTIVE_PHASES:
                continue
            _queue(run, files)
            return run, started
    return None, False


def _queue(run: SyncRun, files: list[dict]) -> int:
    rows = [{"file_id": file["id"], "file": file, "estimated_chunks": estimate_chunks(file)} for file in files]
    with db.cursor() as cursor:
        cursor.execute(_QUEUE_AGAIN, {"run": run.pk, "rows": json.dumps(rows)})
        return cursor.rowcount


def _listed_files(connection, documents) -> list[dict]:
    """Each document's file as its last listing described it (what a download needs: its type,
    size and link), or as far as ragbase knows it."""
    ids = [document.source_id for document in documents]
    listed = dict(SyncItem.objects.filter(run__connection=connection, file_id__in=ids, action=SyncItem.Action.INGEST)
                  .order_by("file_id", "-id").distinct("file_id").values_list("file_id", "file"))
    types = dict(DriveFile.objects.filter(document__in=documents).values_list("document_id", "drive_mime_type"))
    return [listed.get(d.source_id) or _known_file(d, types.get(d.pk)) for d in documents]


def _known_file(document, drive_mime_type: str | None) -> dict:
    file = {"id": document.source_id, "name": document.title, "mimeType": drive_mime_type or document.mime_type,
            "webViewLink": document.url}
    if document.modified_at:
        file["modifiedTime"] = document.modified_at.isoformat()
    return file
