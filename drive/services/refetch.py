"""Fetching Drive documents again (`manage.py rechunk` for Drive files: ragbase keeps no copy of
their bytes). A document to fetch again is marked by clearing its content hash: no listing or
processing step treats it as current (drive.services.files.current_documents), and while any is
marked the connection's next sync lists the whole Drive (the changes feed would not mention an
unchanged file) and exports or downloads only the marked files and the changed ones. Its chunks
stay searchable until the new ones replace them."""
from django.db.models import Q

from chunks.models import Document
from drive.models import DriveConnection, SyncRun
from drive.selectors import drive_documents

GOOGLE_DOC = "application/vnd.google-apps.document"
# Exported in a form without headings: Google Docs exported as plain text (as before they came as
# HTML), and exports of a type not recorded then (a Doc or a Slides deck: fetched once to know).
LACKING_HEADINGS = (Q(drive_file__drive_mime_type=GOOGLE_DOC, mime_type="text/plain")
                    | Q(drive_file__drive_mime_type="", drive_file__md5_checksum="", mime_type="text/plain"))


def awaiting_fetch(owner) -> bool:
    return drive_documents(owner).filter(state__in=Document.INDEXED_STATES, content_hash="").exists()


def fetch_again(*, documents, dry_run=False) -> dict[int, str]:
    """Mark the documents for fetching again and start (or join) their owners' syncs. Returns a
    sentence per document id: what happens to it."""
    from drive.tasks import request_sync  # starting a sync is the task layer's (it imports this module)

    by_owner: dict[int, list[Document]] = {}
    for document in documents:
        by_owner.setdefault(document.owner_id, []).append(document)
    messages = {}
    for owner_id, owned in by_owner.items():
        connection = DriveConnection.objects.filter(user_id=owner_id).first()
        connected = connection is not None and connection.status == DriveConnection.Status.CONNECTED
        running = connected and connection.sync_runs.filter(phase__in=SyncRun.ACTIVE_PHASES).exists()
        if not connected:
            message = ("to fetch again once its owner reconnects Drive "
                       f"({connection.get_status_display() if connection else 'not connected'})")
        elif running:
            message = "to fetch again by the sync after the one running now"
        else:
            message = f"to fetch again by the sync {'that would start' if dry_run else 'started'} now"
        if not dry_run:
            Document.objects.filter(pk__in=[d.pk for d in owned]).update(content_hash="")
            if connected and not running:
                request_sync(connection)
        messages.update({document.pk: message for document in owned})
    return messages

