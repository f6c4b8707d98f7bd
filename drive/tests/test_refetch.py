"""`manage.py rechunk` on Drive documents: ragbase keeps no copy of their bytes, so they are marked
and the sync it starts lists the whole Drive and exports only them again (a Google Doc synced as
plain text comes back as HTML with heading paths); the other files are not downloaded; until then
the old chunks stay searchable; a Drive that needs reconnecting gets them when it is reconnected."""
from io import StringIO

import pytest
from django.core.management import call_command

from chunks.models import Chunk, Document, VectorDeletion
from drive.models import DriveConnection, DriveFile
from drive.services import files
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile, google_doc

GUIDE = google_doc("g1", "Field guide", [(1, "Herons"), "The heron nests by the quiet river every spring.",
                                         (2, "Feeding"), "Herons wade slowly and strike at small fish."])
NOTES = FakeFile("n1", "notes.txt", "text/plain", b"Plain notes about otters.")


@pytest.fixture
def synced_as_text(fake_google, make_connection, embedder, monkeypatch):
    """A Drive synced while Google Docs were exported as plain text (as before they came as HTML)."""
    connection = make_connection("dana", token=fake_google.grant("dana@gmail.example"))
    fake_google.put_file(GUIDE)
    fake_google.put_file(NOTES)
    with monkeypatch.context() as patched:
        patched.setitem(files.EXPORT_FORMATS, GUIDE.mime_type, ("text/plain",))
        assert sync_connection(connection_id=connection.pk).ingested == 2
    DriveFile.objects.filter(document__source_id="g1").update(drive_mime_type="")  # synced before types were kept
    fake_google.downloads.clear()
    fake_google.requests.clear()
    return connection


def guide():
    return Document.objects.get(source_id="g1")


def rechunk(*args):
    out = StringIO()
    call_command("rechunk", *args, "--yes", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_doc_synced_as_text_is_fetched_again_as_html_and_gets_heading_paths(synced_as_text, fake_google):
    assert guide().mime_type == "text/plain" and Chunk.objects.filter(document=guide()).count() == 1
    old = set(Chunk.objects.filter(document=guide()).values_list("qdrant_id", flat=True))
    notes = set(Chunk.objects.filter(document__source_id="n1").values_list("qdrant_id", flat=True))

    out = rechunk("--lacking-headings")
    assert "1 Google Drive files to fetch again: their sync exports or downloads them (1 chunks now" in out
    assert "dana: 1 Google Drive files to fetch again by the sync started now" in out
    assert fake_google.downloads == ["g1"]  # the Doc exported again; the text file not downloaded
    assert any(r.startswith("GET /drive/v3/files?") for r in fake_google.requests)  # a full listing names it
    assert guide().mime_type == "text/html" and guide().content_hash
    assert [c.metadata["headings"] for c in Chunk.objects.filter(document=guide())] == [["Herons"],
                                                                                     ["Herons", "Feeding"]]
    assert old <= set(VectorDeletion.objects.values_list("qdrant_id", flat=True))
    assert set(Chunk.objects.filter(document__source_id="n1").values_list("qdrant_id", flat=True)) == notes
    assert DriveFile.objects.get(document=guide()).drive_mime_type == GUIDE.mime_type

    assert "no document to re-chunk" in rechunk("--lacking-headings")  # done: a second run does nothing
    fake_google.requests.clear()
    sync_connection(connection_id=synced_as_text.pk)  # and the next sync is incremental again
    assert not any(r.startswith("GET /drive/v3/files?") for r in fake_google.requests)


def test_dry_run_marks_nothing_and_downloads_nothing(synced_as_text, fake_google):
    out = rechunk("--all", "--dry-run")
    assert "2 Google Drive files to fetch again" in out and "by the sync that would start now" in out
    assert "nothing was changed" in out
    assert fake_google.requests == [] and Document.objects.filter(content_hash="").count() == 0


def test_a_drive_that_needs_reconnecting_is_fetched_once_reconnected(synced_as_text, fake_google):
    DriveConnection.objects.filter(pk=synced_as_text.pk).update(status=DriveConnection.Status.NEEDS_RECONNECT)
    out = rechunk("--document", str(guide().pk))
    assert "dana: 1 Google Drive files to fetch again once its owner reconnects Drive (Needs reconnect)" in out
    assert fake_google.requests == []
    assert Chunk.objects.filter(document=guide(), text__contains="heron").exists()  # still searchable meanwhile
    DriveConnection.objects.filter(pk=synced_as_text.pk).update(status=DriveConnection.Status.CONNECTED)
    assert sync_connection(connection_id=synced_as_text.pk).ingested == 1
    assert fake_google.downloads == ["g1"] and guide().mime_type == "text/html"
