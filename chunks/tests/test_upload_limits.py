"""Uploads over the file size limit or past the user's quota are refused while they are received
(413, a clear message, nothing stored); stored files go when their document fails or is deleted."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.test import APIClient

from chunks.models import Document

pytestmark = pytest.mark.django_db
LIMIT = 3 * 1024 * 1024  # above Django's 2.5 MB in memory: bigger uploads go through temporary files


class CountingHandler(FileUploadHandler):
    """Sits after the limit: counts the bytes Django's own handlers (memory, temporary file) get."""
    received = 0

    def receive_data_chunk(self, raw_data, start):
        CountingHandler.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def limits(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    settings.INGEST_MAX_FILE_BYTES = LIMIT
    settings.FILE_UPLOAD_HANDLERS = [settings.FILE_UPLOAD_HANDLERS[0], f"{__name__}.CountingHandler",
                                     *settings.FILE_UPLOAD_HANDLERS[1:]]
    CountingHandler.received = 0
    return settings


def stored_files(settings) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []


def text_file(name, size):
    return SimpleUploadedFile(name, (b"words and more words\n" * (size // 21 + 1))[:size], content_type="text/plain")


@pytest.mark.reliability
def test_an_oversize_upload_is_refused_while_received_and_nothing_is_stored(client, django_user_model, limits):
    client.force_login(django_user_model.objects.create_user("ann"))
    response = client.post("/documents/", {"files": [text_file("small.txt", 1000), text_file("huge.txt", 2 * LIMIT)]})
    assert response.status_code == 413
    page = response.content.decode()
    assert "“huge.txt” is larger than 3.0\xa0MB, the limit for one file" in page and "Nothing was stored" in page
    assert not Document.objects.exists() and stored_files(limits) == []
    assert list(limits.FILE_UPLOAD_TEMP_DIR.iterdir()) == []  # the temporary file went at once
    assert CountingHandler.received <= 1000 + LIMIT  # reading stopped at the limit

    api = APIClient()
    api.force_authenticate(django_user_model.objects.get(username="ann"))
    response = api.post("/api/documents/", {"files": [text_file("huge.txt", LIMIT + 1)]}, format="multipart")
    assert response.status_code == 413 and "larger than 3.0\xa0MB" in response.json()["detail"]
    assert not Document.objects.exists() and stored_files(limits) == []


@pytest.mark.reliability
def test_the_storage_quota_refuses_uploads_past_it_until_space_is_freed(
    client, django_user_model, limits, embedder, django_capture_on_commit_callbacks
):
    limits.UPLOAD_QUOTA_BYTES = 10_000
    client.force_login(django_user_model.objects.create_user("bea"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/documents/", {"files": [text_file("a.txt", 6_000)]}).status_code == 302
    assert "5.9\xa0KB of 9.8\xa0KB" in client.get("/documents/").content.decode()
    refused = client.post("/documents/", {"files": [text_file("b.txt", 6_000)]})
    assert refused.status_code == 413 and "Storage quota reached" in refused.content.decode()
    api = APIClient()
    api.force_authenticate(django_user_model.objects.get(username="bea"))
    response = api.post("/api/documents/", {"files": [text_file("b.txt", 6_000)]}, format="multipart")
    assert response.status_code == 413 and "UPLOAD_QUOTA_BYTES" in response.json()["detail"]
    assert list(Document.objects.values_list("title", flat=True)) == ["a.txt"] and len(stored_files(limits)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/documents/delete/", {"documents": [Document.objects.get().pk]})
    assert stored_files(limits) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/documents/", {"files": [text_file("b.txt", 6_000)]}).status_code == 302
    other = APIClient()  # the quota is per user
    other.force_authenticate(django_user_model.objects.create_user("cid"))
    with django_capture_on_commit_callbacks(execute=True):
        assert other.post("/api/documents/", {"files": [text_file("c.txt", 6_000)]}, format="multipart").status_code == 202


@pytest.mark.reliability
def test_stored_files_go_when_ingestion_fails_or_the_document_is_deleted(
    client, admin_client, django_user_model, limits, embedder, django_capture_on_commit_callbacks
):
    dan = django_user_model.objects.create_user("dan")
    client.force_login(dan)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/documents/", {"files": [text_file("good.txt", 500), text_file("notes.pdf", 500),
                                              SimpleUploadedFile("photo.png", b"\x89PNG....", content_type="image/png")]})
    states = {d.title: (d.state, bool(d.file)) for d in Document.objects.all()}
    assert states == {"good.txt": ("ready", True), "notes.pdf": ("failed", False), "photo.png": ("failed", False)}
    assert [p.name for p in stored_files(limits)] == ["good.txt"]
    # Deleted through the admin (a bulk delete, not the page's service): the file goes too.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/chunks/document/", {"action": "delete_selected", "post": "yes",
                                                      "_selected_action": list(Document.objects.values_list("pk", flat=True))})
    assert not Document.objects.exists() and stored_files(limits) == []
    # A deleted user's uploads go with the user.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/documents/", {"files": [text_file("again.txt", 500)]})
    assert len(stored_files(limits)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        dan.delete()
    assert stored_files(limits) == []
