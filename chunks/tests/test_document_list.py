"""`GET /api/documents/`: paginated, filtered by state and source, searched by title, per user."""
import pytest
from rest_framework.test import APIClient

from chunks.models import Chunk, Document, SyncStatus
from ragbase.testing import make_document, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    """ann's 30 documents (every third from Drive, every fifth failed) and bob's one."""
    ann = make_user("ann")
    for i in range(30):
        make_document(ann, source_id=f"d{i}", title=f"Report {i:02d}" if i % 2 else f"Minutes {i:02d}",
                      source=Document.Source.DRIVE if i % 3 == 0 else Document.Source.UPLOAD,
                      state=Document.State.FAILED if i % 5 == 0 else Document.State.READY)
    make_document(make_user("bob"), source_id="b", title="Report of bob")
    api = APIClient()
    api.force_authenticate(ann)
    return api


def titles(body):
    return [d["title"] for d in body["results"]]


def test_documents_come_in_pages_each_document_once(library):
    first = library.get("/api/documents/", {"page_size": 20}).json()
    second = library.get(first["next"]).json()
    assert first["count"] == 30 and len(first["results"]) == 20 and len(second["results"]) == 10
    assert second["next"] is None and not set(titles(first)) & set(titles(second))
    assert len(library.get("/api/documents/").json()["results"]) == 25  # the default page
    assert "page" in library.get("/api/documents/", {"page": 3, "page_size": 20}).json()  # 400 by field


def test_filters_by_state_and_source_and_searches_titles(library):
    failed = library.get("/api/documents/", {"state": "failed"}).json()
    assert failed["count"] == 6 and {d["state"] for d in failed["results"]} == {"failed"}
    drive = library.get("/api/documents/", {"source": "drive", "state": "ready"}).json()
    assert drive["count"] == 8 and {(d["source"], d["state"]) for d in drive["results"]} == {("drive", "ready")}
    reports = library.get("/api/documents/", {"q": "rEpOrT"}).json()
    assert reports["count"] == 15 and all(t.startswith("Report ") for t in titles(reports))  # never bob's
    assert library.get("/api/documents/", {"state": "lost"}).status_code == 400


def test_each_document_counts_its_chunks_and_those_pending(library):
    document = Document.objects.get(title="Report 01")
    for ordinal, status in enumerate([SyncStatus.SYNCED, SyncStatus.PENDING, SyncStatus.PENDING]):
        Chunk.objects.create(document=document, owner=document.owner, ordinal=ordinal, text="x", sync_status=status)
    [listed] = library.get("/api/documents/", {"q": "Report 01"}).json()["results"]
    assert (listed["chunks"], listed["chunks_pending"]) == (3, 2)


def test_the_documents_page_is_paged_and_filtered_like_the_api(client, library, django_user_model):
    client.force_login(django_user_model.objects.get(username="ann"))
    first = client.get("/documents/").content.decode()
    assert "30 documents, page 1 of 2" in first and first.count("<tr>") == 26 and 'href="?page=2"' in first
    second = client.get("/documents/", {"page": 2}).content.decode()
    assert second.count("<tr>") == 6 and "Previous page" in second
    filtered = client.get("/documents/", {"q": "report", "state": "failed", "source": "upload"}).content.decode()
    # Reports (odd i) that failed (i % 5 == 0) and are uploads (i % 3 != 0): 5 and 25.
    assert "2 documents." in filtered and "Report 05" in filtered and "Report 25" in filtered
    assert '<label for="id_q">Title contains:</label>' in filtered
    assert "No documents match these filters." in client.get("/documents/", {"q": "nothing like it"}).content.decode()
