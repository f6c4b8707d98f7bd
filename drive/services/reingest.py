"""Fetching chosen Drive files again ("re-ingest failed" on the documents page and in the API).

A file that failed is fetched again only when the changes feed mentions it, which it does not
until the file changes. So the files join the connection's sync run (started if none is active)
as items to ingest, with the metadata of their last listing, and the run's lanes take them like
any other item. The caller kicks the run once its transaction commits (drive.tasks)."""
import json

from django.db import connection as db
from django.db import transaction

from drive.models import DriveConnection, SyncItem, SyncRun
from drive.services import runs
from drive.services.files import estimate_chunks

# Like listing's upsert, but a file the run has already done (failed, most likely) is queued again.
_QUEUE_AGAIN = """
    INSERT INTO drive_syncitem (run_id, file_id, file, action, state, outcome, estimated_chunks, attempts, error)
    SELECT %(run)s, r.file_id, r.file, 'ingest', 'queued', '', r.estimated_chunks, 0, ''
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(file_id text, file jsonb, estimated_chunks int)
    ON CONFLICT (run_id, file_id) DO UPDATE
       SET file = EXCLUDED.file, action = 'ingest', state = 'queued', outcome = '', attempts = 0, error = '',
           claim = NULL, lease_until = NULL, finished_at = NULL
     WHERE drive_syncitem.state = 'done'
"""


def queue_refetch(*, owner, documents) -> SyncRun | None:
    """Add the Drive `documents` of `owner` to the connection's active run (or a new one). None
    when there is nothing to add them to: no Drive connected, or it needs reconnecting."""
    connection = DriveConnection.objects.filter(user=owner).first()
    if connection is None or not documents:
        return None
    rows = [{"file_id": file["id"], "file": file, "estimated_chunks": estimate_chunks(file)}
            for file in _listed_files(connection, documents)]
    for _ in range(2):  # the run found may finish before it is locked: then a new one is started
        run, _started = runs.start_or_join(connection)
        if run is None:
            return None
        with transaction.atomic():
            if SyncRun.objects.select_for_update().get(pk=run.pk).phase not in SyncRun.ACTIVE_PHASES:
                continue
            with db.cursor() as cursor:
                cursor.execute(_QUEUE_AGAIN, {"run": run.pk, "rows": json.dumps(rows)})
            return run
    return None


def _listed_files(connection, documents) -> list[dict]:
    """Each document's file as its last listing described it (what a download needs: its type,
    size and link), or as far as the Document knows it."""
    ids = [document.source_id for document in documents]
    listed = dict(SyncItem.objects.filter(run__connection=connection, file_id__in=ids, action=SyncItem.Action.INGEST)
                  .order_by("file_id", "-id").distinct("file_id").values_list("file_id", "file"))
    return [listed.get(document.source_id) or _known_file(document) for document in documents]


def _known_file(document) -> dict:
    file = {"id": document.source_id, "name": document.title, "mimeType": document.mime_type,
            "webViewLink": document.url}
    if document.modified_at:
        file["modifiedTime"] = document.modified_at.isoformat()
    return file
