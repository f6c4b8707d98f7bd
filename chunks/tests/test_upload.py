import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from chunks.models import Chunk, Document, VectorDeletion
from chunks.tests.files import docx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(make_user):
    return make_user("ann")


def test_upload_page_queues_and_indexes_several_files(
    client, ann, embedder, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(ann)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
        "/documents/",
            {"files": [SimpleUploadedFile("a.txt", b"alpha text about owls"), SimpleUploadedFile("b.pdf", b"not a pdf")]},
        )
    html = client.get(response["Location"]).content.decode()
    # Q_SYNC runs the queued task inline in tests; the page lists both with their state.
    assert "a.txt" in html and "b.pdf" in html and "could not be read" in html
    states = dict(Document.objects.values_list("title", "state"))
    assert states == {"a.txt": "ready", "b.pdf": "failed"}


def test_api_upload_list_and_delete_are_per_user(
    ann, django_user_model, embedder, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    api = APIClient()
    api.force_authenticate(ann)
    docx = SimpleUploadedFile("r.docx", docx_bytes(["Budget report"]), content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/documents/", {"files": [docx]}, format="multipart")
    assert response.status_code == 202 and response.json()[0]["title"] == "r.docx"
    assert response.json()[0]["state"] == "queued"  # the request returns before the work is done
    listed = api.get("/api/documents/").json()["results"]
    assert [d["title"] for d in listed] == ["r.docx"] and listed[0]["state"] == "ready" and listed[0]["chunks"] == 1

    bob = APIClient()
    bob.force_authenticate(django_user_model.objects.create_user("bob"))
    doc_id = listed[0]["id"]
    assert bob.get("/api/documents/").json()["results"] == []
    assert bob.delete(f"/api/documents/{doc_id}/").status_code == 404
    chunk_ids = set(Chunk.objects.values_list("qdrant_id", flat=True))
    assert api.delete(f"/api/documents/{doc_id}/").status_code == 204
    assert set(VectorDeletion.objects.values_list("qdrant_id", flat=True)) == chunk_ids


def test_api_upload_without_files_is_400(ann):
    api = APIClient()
    api.force_authenticate(ann)
    assert "files" in api.post("/api/documents/", {}, format="multipart").json()


def test_anonymous_cannot_list_or_upload(client):
    assert client.get("/api/documents/").status_code in (401, 403)
    assert client.get("/documents/").status_code == 302


def test_ingest_command_walks_folders_and_reports_failures(ann, embedder, tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "one.md").write_text("# One\n\nFirst file")
    (tmp_path / "sub" / "two.txt").write_text("Second file")
    (tmp_path / "sub" / "broken.pdf").write_bytes(b"%PDF broken")
    call_command("ingest", str(tmp_path), owner="ann", verbosity=0)
    out = capsys.readouterr().out
    assert "3 file(s): 1 failed, 2 ready" in out
    assert Chunk.objects.filter(owner=ann).count() == 2


def test_an_upload_shows_processing_while_it_is_ingested(
    client, ann, embedder, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from chunks.services import ingestion

    settings.MEDIA_ROOT = tmp_path
    client.force_login(ann)
    seen = []
    ingest_batch = ingestion.ingest_batch

    def watched(**kwargs):
        page = client.get("/documents/").content.decode()
        seen.append((client.get("/api/documents/").json()["results"][0]["state"], "<td>Processing</td>" in page))
        return ingest_batch(**kwargs)

    monkeypatch.setattr(ingestion, "ingest_batch", watched)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/documents/", {"files": [SimpleUploadedFile("p.txt", b"Pelicans dive for fish.")]})
    assert seen == [("processing", True)]
    assert Document.objects.get().state == Document.State.READY
