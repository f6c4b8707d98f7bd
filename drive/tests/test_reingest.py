"""Re-ingesting a failed Drive file fetches it again through the sync run (the changes feed alone
would not mention it until it changes), from the documents page, against the loopback fake Google."""
import pytest
from django.test import Client

from chunks.models import Document
from drive.models import DriveConnection
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile

pytestmark = pytest.mark.django_db


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
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/documents/actions/", {"action": "reingest", "documents": [failed.pk]}, follow=True)
    assert "1 failed document queued again." in " ".join(str(m) for m in response.context["messages"])
    failed.refresh_from_db()
    assert failed.state == Document.State.READY and failed.chunks.filter(text__contains="Herons").exists()
    assert fake_google.downloads == ["ok", "bad"]  # that file alone, downloaded again
    assert Document.objects.get(source_id="ok").state == Document.State.READY


def test_without_a_connected_drive_the_file_cannot_be_fetched_again(make_connection, django_capture_on_commit_callbacks):
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
