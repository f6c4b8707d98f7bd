"""The documents page's bulk actions (and the API's): delete after a confirmation, re-ingest the
failed ones, only ever the user's own documents; removed chunks leave through the outbox."""
import pytest
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.test import APIClient

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain
from ragbase.testing import make_document, stored_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(make_user):
    return make_user("ann")


@pytest.fixture
def browser(ann):
    client = Client()
    client.force_login(ann)
    return client


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_bulk_delete_asks_first_then_deletes_through_the_outbox(browser, ann, add_document, vector_index):
    owls = add_document(ann, "Owls hunt at night in the quiet woods.", title="Owls")
    herons = add_document(ann, "Herons nest by the river every spring.", title="Herons")
    kept = add_document(ann, "Budget meeting notes for the boat.", title="Budget")
    page = browser.get("/documents/").content.decode()
    assert f'name="documents" value="{owls.pk}" form="document-actions"' in page
    assert 'value="delete">Delete selected…</button>' in page

    asked = browser.post("/documents/actions/", {"action": "delete", "documents": [owls.pk, herons.pk]}, follow=True)
    confirm = asked.content.decode()
    assert "Delete 2 documents?" in confirm and "Owls" in confirm and "Herons" in confirm and "Budget" not in confirm
    assert Document.objects.filter(owner=ann).count() == 3  # nothing gone before the confirmation

    done = browser.post("/documents/delete/", {"documents": [owls.pk, herons.pk]}, follow=True)
    assert "Deleted 2 documents." in messages_of(done)
    assert list(Document.objects.values_list("title", flat=True)) == ["Budget"]
    assert VectorDeletion.objects.filter(document_id__in=[owls.pk, herons.pk]).count() == 2  # the outbox has them
    drain()
    assert {point.payload["document_id"] for point in stored_points(vector_index).values()} == {kept.pk}


def test_another_users_document_in_the_form_refuses_the_whole_action(browser, ann, make_user):
    mine = make_document(ann, source_id="mine", title="Mine", state=Document.State.FAILED, error="unreadable")
    bobs = make_document(make_user("bob"), source_id="bobs", title="Bob's", state=Document.State.FAILED,
                         error="unreadable")
    for path, data in [("/documents/delete/", {"documents": [mine.pk, bobs.pk]}),
                       ("/documents/delete/", {"documents": [bobs.pk]}),
                       ("/documents/actions/", {"action": "delete", "documents": [mine.pk, bobs.pk]}),
                       ("/documents/actions/", {"action": "reingest", "documents": [bobs.pk]})]:
        response = browser.post(path, data, follow=True)
        assert "not yours or no longer exist" in messages_of(response), path
    assert "not yours" in messages_of(browser.get("/documents/delete/", {"documents": [bobs.pk]}, follow=True))
    assert Document.objects.count() == 2
    assert Document.objects.get(pk=bobs.pk).state == Document.State.FAILED
    nothing = browser.post("/documents/actions/", {"action": "delete"}, follow=True)
    assert "choose at least one document" in messages_of(nothing)


def test_reingest_failed_pushes_again_rereads_stored_files_and_names_what_it_cannot(
        browser, ann, add_document, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    pushed = add_document(ann, "Owls hunt at night.", title="Owls", drain_now=False)
    Chunk.objects.filter(document=pushed).update(sync_status=SyncStatus.FAILED, last_sync_error="store down")
    stored = make_document(ann, source_id="kept", title="notes.txt", mime_type="text/plain",
                           state=Document.State.FAILED, error="worker killed")
    stored.file.save("notes.txt", ContentFile(b"Herons nest by the river every spring."))
    gone = make_document(ann, source_id="gone", title="broken.pdf", state=Document.State.FAILED, error="not a PDF")
    fine = add_document(ann, "Budget notes.", title="Budget")
    assert "Re-ingest all 3 failed" in browser.get("/documents/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/documents/actions/", {
            "action": "reingest", "documents": [pushed.pk, stored.pk, gone.pk, fine.pk]}, follow=True)
    report = messages_of(response)
    assert "2 failed documents queued again. 1 had not failed" in report and "“broken.pdf”" in report
    assert set(Chunk.objects.filter(document=pushed).values_list("sync_status", flat=True)) == {SyncStatus.PENDING}
    stored.refresh_from_db()
    assert stored.state == Document.State.READY and stored.chunks.filter(text__contains="Herons").exists()
    assert Document.objects.get(pk=gone.pk).state == Document.State.FAILED  # nothing can read it again


def test_reingest_all_failed_needs_no_selection(browser, ann, add_document):
    pushed = add_document(ann, "Owls hunt at night.", title="Owls", drain_now=False)
    Chunk.objects.filter(document=pushed).update(sync_status=SyncStatus.FAILED)
    response = browser.post("/documents/actions/", {"action": "reingest_all"}, follow=True)
    assert "1 failed document queued again." in messages_of(response)
    assert not Chunk.objects.filter(sync_status=SyncStatus.FAILED).exists()


def test_the_api_deletes_and_reingests_only_the_callers_documents(ann, make_user, add_document):
    api = APIClient()
    api.force_authenticate(ann)
    mine = add_document(ann, "Owls hunt at night.", title="Owls", drain_now=False)
    Chunk.objects.filter(document=mine).update(sync_status=SyncStatus.FAILED)
    bobs = add_document(make_user("bob"), "Bob's herons.", title="Herons", drain_now=False)
    refused = api.post("/api/documents/bulk/", {"action": "delete", "ids": [mine.pk, bobs.pk]}, format="json")
    assert refused.status_code == 400 and "ids" in refused.json() and Document.objects.count() == 2
    assert api.post(f"/api/documents/{bobs.pk}/reingest/").status_code == 404
    reingested = api.post(f"/api/documents/{mine.pk}/reingest/").json()
    assert (reingested["queued"], reingested["not_failed"], reingested["impossible"]) == (1, 0, [])
    assert api.post("/api/documents/bulk/", {"action": "reingest", "ids": [mine.pk]}, format="json").json()[
        "not_failed"] == 1  # its chunks are pending now: nothing failed is left
    deleted = api.post("/api/documents/bulk/", {"action": "delete", "ids": [mine.pk]}, format="json")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 1}
    assert list(Document.objects.values_list("title", flat=True)) == ["Herons"]
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert "/api/documents/bulk/" in schema["paths"] and "/api/documents/{id}/reingest/" in schema["paths"]
