"""The home page: the signed-in user's counts, their Drive's state and a search box (real Postgres)."""
import re
from datetime import datetime, timezone

import pytest

from chunks.models import Chunk, Document, SyncStatus
from drive.models import DriveConnection, SyncRun
from ragbase.testing import make_document, make_user

pytestmark = pytest.mark.django_db


def add_chunks(document, *statuses):
    start = document.chunks.count()
    for ordinal, status in enumerate(statuses, start):
        Chunk.objects.create(document=document, owner=document.owner, ordinal=ordinal, text="x", sync_status=status)


def counts_shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="(\w+)">\s*(?:<a [^>]*>)?(\d+)', html))


@pytest.fixture
def ann(db):
    """ann: 4 documents (3 synced + 2 pending chunks, one failed document); bob's chunks must not count."""
    ann = make_user("ann")
    add_chunks(make_document(ann, source_id="a", state=Document.State.READY), SyncStatus.SYNCED, SyncStatus.SYNCED)
    add_chunks(make_document(ann, source_id="b", state=Document.State.READY, source=Document.Source.DRIVE),
               SyncStatus.SYNCED, SyncStatus.PENDING, SyncStatus.PENDING, SyncStatus.FAILED)
    make_document(ann, source_id="c", state=Document.State.FAILED, error="not a PDF")
    make_document(ann, source_id="d", state=Document.State.QUEUED)
    bob = make_user("bob")
    add_chunks(make_document(bob, source_id="a", state=Document.State.FAILED), SyncStatus.SYNCED, SyncStatus.PENDING)
    return ann


def test_home_shows_the_users_own_counts_and_a_search_box(client, ann):
    client.force_login(ann)
    html = client.get("/").content.decode()
    assert counts_shown(html) == {"documents": "4", "chunks_searchable": "3", "chunks_waiting": "2",
                                  "failed_documents": "1"}
    assert 'href="/documents/?state=failed"' in html
    form = re.search(r'<form method="get" action="/search/" role="search"[^>]*>(.*?)</form>', html, re.S).group(1)
    assert '<label for="home-q">' in form and 'id="home-q" name="q"' in form
    assert "Not connected." in html and 'href="/drive/"' in html


def test_home_leaves_out_failed_documents_when_there_are_none(client, ann):
    Document.objects.filter(owner=ann, state=Document.State.FAILED).delete()
    client.force_login(ann)
    assert "failed_documents" not in counts_shown(client.get("/").content.decode())


def test_home_shows_the_drive_connection_and_its_last_sync(client, ann, settings):
    settings.TIME_ZONE = "UTC"
    connection = DriveConnection.objects.create(user=ann, google_email="ann@gmail.example",
                                                last_sync_at=datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc))
    SyncRun.objects.create(connection=connection, phase=SyncRun.Phase.DONE)
    client.force_login(ann)
    html = client.get("/").content.decode()
    assert "Connected (ann@gmail.example)" in html and "Up to date" in html and "2026-03-04 05:06" in html
    connection.mark_needs_reconnect("Google revoked access")
    assert "Needs reconnect" in client.get("/").content.decode()


def test_search_box_leads_to_the_search_page(client, ann):
    client.force_login(ann)
    assert client.get("/search/", {"q": "anything"}).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/")
