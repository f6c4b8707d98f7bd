"""Fetching Drive documents again (ragbase keeps no copy of their bytes), against the loopback fake
Google: `manage.py rechunk` and "re-ingest failed" both add the chosen files to the sync run, which
exports or downloads only them, without listing the Drive. A Google Doc synced as plain text comes
back as HTML with heading paths; until then the old chunks stay searchable; a Drive that needs
reconnecting gets them in its first sync once reconnected; a failed file is indexed again."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from chunks.models import Chunk, Document, VectorDeletion
from drive.models import DriveConnection, DriveFile, SyncItem
from drive.services import files, runs
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile, google_doc

GUIDE = google_doc("g1", "Field guide", [(1, "Herons"), "The heron nests by the quiet river every spring.",
                                         (2, "Feeding"), "Herons wade slowly and strike at small fish."])
pytestmark = pytest.mark.django_db

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


@pytest.fixture
def rechunk(django_capture_on_commit_callbacks):
    def run(*args):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("rechunk", *args, "--yes", stdout=out, stderr=StringIO())
        return out.getvalue()
    return run


def listed_the_drive(fake_google) -> bool:
    return any(r.startswith("GET /drive/v3/files?") for r in fake_google.requests)


def test_a_doc_synced_as_text_is_fetched_again_as_html_and_gets_heading_paths(synced_as_text, fake_google, rechunk):
    assert guide().mime_type == "text/plain" and Chunk.objects.filter(document=guide()).count() == 1
    old = set(Chunk.objects.filter(document=guide()).values_list("qdrant_id", flat=True))
    notes = set(Chunk.objects.filter(document__source_id="n1").values_list("qdrant_id", flat=True))

    out = rechunk("--lacking-headings")
    assert "1 Google Drive files to fetch again: their sync exports or downloads them (1 chunks now" in out
    assert "dana: 1 Google Drive files to fetch again by the sync started now" in out
    assert fake_google.downloads == ["g1"]  # the Doc exported again; the text file not downloaded
    assert not listed_the_drive(fake_google)  # the run was given the file: nothing was listed for it
    assert guide().mime_type == "text/html" and guide().content_hash
    assert [c.metadata["headings"] for c in Chunk.objects.filter(document=guide())] == [["Herons"],
                                                                                     ["Herons", "Feeding"]]
    assert old <= set(VectorDeletion.objects.values_list("qdrant_id", flat=True))
    assert set(Chunk.objects.filter(document__source_id="n1").values_list("qdrant_id", flat=True)) == notes
    assert DriveFile.objects.get(document=guide()).drive_mime_type == GUIDE.mime_type

    assert "no document to re-chunk" in rechunk("--lacking-headings")  # done: a second run does nothing
    fake_google.downloads.clear()
    sync_connection(connection_id=synced_as_text.pk)  # and the next sync fetches nothing again
    assert fake_google.downloads == [] and not listed_the_drive(fake_google)


def test_dry_run_marks_nothing_and_downloads_nothing(synced_as_text, fake_google, rechunk):
    out = rechunk("--all", "--dry-run")
    assert "2 Google Drive files to fetch again" in out and "by the sync that would start now" in out
    assert "nothing was changed" in out
    assert fake_google.requests == [] and Document.objects.filter(content_hash="").count() == 0
    assert not SyncItem.objects.filter(state=SyncItem.State.QUEUED).exists()


def test_a_drive_that_needs_reconnecting_is_fetched_once_reconnected(synced_as_text, fake_google, rechunk):
    DriveConnection.objects.filter(pk=synced_as_text.pk).update(status=DriveConnection.Status.NEEDS_RECONNECT)
    out = rechunk("--document", str(guide().pk))
    assert "dana: 1 Google Drive files to fetch again once its owner reconnects Drive (Needs reconnect)" in out
    assert fake_google.requests == []
    assert Chunk.objects.filter(document=guide(), text__contains="heron").exists()  # still searchable meanwhile
    DriveConnection.objects.filter(pk=synced_as_text.pk).update(status=DriveConnection.Status.CONNECTED)
    assert sync_connection(connection_id=synced_as_text.pk).ingested == 1
    assert fake_google.downloads == ["g1"] and guide().mime_type == "text/html"
    assert not listed_the_drive(fake_google)


def test_a_file_joins_the_sync_running_now(synced_as_text, fake_google, rechunk):
    running = runs.start_or_join(synced_as_text)[0]
    out = rechunk("--document", str(guide().pk))
    assert "dana: 1 Google Drive files to fetch again by the sync running now" in out
    assert running.items.get(file_id="g1").outcome == SyncItem.Outcome.INGESTED
    assert synced_as_text.sync_runs.latest("pk") == running  # no second run
    assert fake_google.downloads == ["g1"] and guide().mime_type == "text/html"


def test_a_failed_drive_file_is_fetched_again_and_indexed(
        fake_google, make_connection, embedder, recorded_sleeps, django_capture_on_commit_callbacks):
    connection = make_connection("dana", token=fake_google.grant("dana@gmail.example"))
    fake_google.put_file(FakeFile("bad", "Broken.pdf", "text/plain", b"Herons nest by the river.", broken=True))
    fake_google.put_file(FakeFile("ok", "Fine", "text/plain", b"A perfectly readable file about owls."))
    assert sync_connection(connection_id=connection.pk).failed == 1
    fake_google.files["bad"].broken = False  # Google serves it again; the file itself has not changed
    assert sync_connection(connection_id=connection.pk).ingested == 0  # so the changes feed does not mention it
    failed = Document.objects.get(source_id="bad")
    assert failed.state == Document.State.FAILED

    browser = Client()
    browser.force_login(connection.user)
    assert fake_google.downloads == ["ok"]
    fake_google.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/documents/actions/", {"action": "reingest", "documents": [failed.pk]}, follow=True)
    assert "1 failed document queued again." in " ".join(str(m) for m in response.context["messages"])
    failed.refresh_from_db()
    assert failed.state == Document.State.READY and failed.chunks.filter(text__contains="Herons").exists()
    assert fake_google.downloads == ["ok", "bad"]  # that file alone, downloaded again
    assert not listed_the_drive(fake_google)
    assert Document.objects.get(source_id="ok").state == Document.State.READY


def test_a_failed_file_of_a_drive_that_needs_reconnecting_cannot_be_fetched_again(
        make_connection, django_capture_on_commit_callbacks):
    connection = make_connection("eli", status=DriveConnection.Status.NEEDS_RECONNECT)
    failed = Document.objects.create(owner=connection.user, source=Document.Source.DRIVE, source_id="f", title="Plan",
                                     state=Document.State.FAILED, error="Could not read the file")
    browser = Client()
    browser.force_login(connection.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/documents/actions/", {"action": "reingest_all"}, follow=True)
    assert "Cannot re-ingest “Plan”" in " ".join(str(m) for m in response.context["messages"])
    failed.refresh_from_db()
    assert (failed.state, failed.error) == (Document.State.FAILED, "Could not read the file")
