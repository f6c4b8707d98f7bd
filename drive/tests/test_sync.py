import pytest

from chunks.models import Chunk, Document, VectorDeletion
from drive.models import DriveConnection
from drive.services.sync import sync_connection
from drive.services.tokens import REVOKED_MESSAGE
from drive.tasks import enqueue_connected_syncs
from drive.tests.fake_google import FakeFile, google_doc

DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"


@pytest.fixture
def drive_user(fake_google, make_connection, embedder):
    token = fake_google.grant("dana@gmail.example")
    return make_connection("dana", token=token)


def docs(connection):
    return {d.source_id: d for d in Document.objects.filter(owner=connection.user, source="drive")}


def test_first_sync_lists_every_page_and_ingests_each_kind(fake_google, drive_user):
    fake_google.put_file(FakeFile("d1", "Notes", DOC, b"The heron nests by the quiet river every spring."))
    fake_google.put_file(FakeFile("s1", "Budget", SHEET, b"item,cost\nboat,300\n"))
    fake_google.put_file(FakeFile("t1", "readme.md", "text/markdown", b"# Title\nMarkdown body text here."))
    fake_google.put_file(FakeFile("img", "photo.png", "image/png", b"\x89PNG"))
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.ingested, result.failed, result.stopped) == (3, 0, "")
    stored = docs(drive_user)
    assert set(stored) == {"d1", "s1", "t1"}
    assert stored["d1"].mime_type == "text/html" and stored["s1"].mime_type == "text/csv"
    assert stored["d1"].url == "https://drive.google.com/file/d/d1/view"
    assert Chunk.objects.filter(document=stored["d1"], text__contains="heron").exists()
    assert any("export" in r and "mimeType=text%2Fcsv" in r for r in fake_google.requests)
    assert sum("/drive/v3/files?" in r for r in fake_google.requests) == 2  # two pages of 2
    drive_user.refresh_from_db()
    assert drive_user.changes_page_token == "4" and drive_user.files_indexed == 3 and drive_user.last_sync_at


def test_incremental_sync_adds_changes_deletes_and_skips_unchanged(fake_google, drive_user):
    fake_google.put_file(FakeFile("a", "A", "text/plain", b"alpha original text", modified_time="2026-01-01T00:00:00Z"))
    fake_google.put_file(FakeFile("b", "B", "text/plain", b"bravo text stays"))
    fake_google.put_file(FakeFile("c", "C", "text/plain", b"charlie will be removed"))
    sync_connection(connection_id=drive_user.pk)
    removed_chunk_ids = set(Chunk.objects.filter(document=docs(drive_user)["c"]).values_list("qdrant_id", flat=True))
    fake_google.put_file(FakeFile("a", "A", "text/plain", b"alpha rewritten", modified_time="2026-02-01T00:00:00Z"))
    fake_google.put_file(FakeFile("b", "B", "text/plain", b"bravo text stays"))  # touched, same modifiedTime
    fake_google.put_file(FakeFile("d", "D", "text/plain", b"delta is new"))
    fake_google.remove_file("c")
    fake_google.requests.clear()
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.ingested, result.skipped, result.removed, result.failed) == (2, 1, 1, 0)
    assert not any("/files/b" in r for r in fake_google.requests)  # unchanged: not downloaded
    assert not any(r.startswith("GET /drive/v3/files?") for r in fake_google.requests)  # changes API only
    stored = docs(drive_user)
    assert set(stored) == {"a", "b", "d"}
    assert Chunk.objects.filter(document=stored["a"], text__contains="rewritten").exists()
    assert not Chunk.objects.filter(document=stored["a"], text__contains="original").exists()
    assert removed_chunk_ids <= set(VectorDeletion.objects.values_list("qdrant_id", flat=True))


def test_trashed_and_out_of_scope_files_are_removed(fake_google, drive_user):
    drive_user.folder_ids = ["F1"]
    drive_user.save()
    fake_google.put_file(FakeFile("in", "In", "text/plain", b"inside the folder", parents=["F1"]))
    fake_google.put_file(FakeFile("out", "Out", "text/plain", b"outside the folder", parents=["root"]))
    fake_google.put_file(FakeFile("moved", "Moved", "text/plain", b"will move out", parents=["F1"]))
    sync_connection(connection_id=drive_user.pk)
    assert set(docs(drive_user)) == {"in", "moved"}
    fake_google.put_file(FakeFile("in", "In", "text/plain", b"inside the folder", parents=["F1"], trashed=True))
    fake_google.put_file(FakeFile("moved", "Moved", "text/plain", b"will move out", parents=["root"]))
    sync_connection(connection_id=drive_user.pk)
    assert docs(drive_user) == {}


def test_revoked_grant_needs_reconnect_without_retries(fake_google, drive_user, make_connection, recorded_sleeps):
    other = make_connection("erin", token=fake_google.grant("erin@gmail.example"))
    fake_google.refresh_tokens.pop(drive_user.refresh_token)
    fake_google.put_file(FakeFile("x", "X", "text/plain", b"some text"))
    result = sync_connection(connection_id=drive_user.pk)
    assert result.stopped == REVOKED_MESSAGE and recorded_sleeps == []
    assert sum(r.startswith("POST /token") for r in fake_google.requests) == 1
    drive_user.refresh_from_db()
    assert drive_user.status == DriveConnection.Status.NEEDS_RECONNECT and "reconnect" in drive_user.status_message
    # The schedule skips it; the other user still syncs.
    assert enqueue_connected_syncs() == 1
    assert set(docs(other)) == {"x"}
    assert docs(drive_user) == {}


def test_rate_limit_backs_off_honouring_retry_after_then_succeeds(fake_google, drive_user, recorded_sleeps):
    fake_google.put_file(FakeFile("r", "R", "text/plain", b"rate limited text"))
    fake_google.fail_next("/drive/v3/files?", 429, retry_after="7")
    fake_google.fail_next("/drive/v3/files?", 403)
    fake_google.fail_next("/drive/v3/files/r", 503)
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.ingested, result.failed, result.stopped) == (1, 0, "")
    assert len(recorded_sleeps) == 3 and recorded_sleeps[0] >= 7


def test_bounded_retries_then_the_file_fails_alone(fake_google, drive_user, recorded_sleeps, settings):
    fake_google.put_file(FakeFile("bad", "Broken", "application/pdf", b"%PDF-1.4", broken=True))
    fake_google.put_file(FakeFile("ok", "Fine", "text/plain", b"a perfectly readable file"))
    fake_google.put_file(FakeFile("big", "Big", "text/plain", b"x" * 100))
    settings.DRIVE_MAX_FILE_BYTES = 50
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.ingested, result.failed) == (1, 2)
    assert len(recorded_sleeps) == 3  # DRIVE_MAX_RETRIES, then give up on that file
    stored = docs(drive_user)
    assert stored["ok"].state == "ready"
    assert stored["bad"].state == "failed" and "Could not read" in stored["bad"].error
    assert stored["big"].state == "failed" and "limit" in stored["big"].error
    drive_user.refresh_from_db()
    assert drive_user.files_failed == 2 and "Broken" in drive_user.last_error


def test_md5_unchanged_file_is_not_downloaded_but_its_metadata_updates(fake_google, drive_user):
    same = b"The same bytes in every version of this file."
    fake_google.put_file(FakeFile("m", "Draft.txt", "text/plain", same, modified_time="2026-01-01T00:00:00Z"))
    fake_google.put_file(FakeFile("g", "Plan", DOC, b"a google doc has no md5", modified_time="2026-01-01T00:00:00Z"))
    sync_connection(connection_id=drive_user.pk)
    chunk_ids = set(Chunk.objects.filter(document=docs(drive_user)["m"]).values_list("qdrant_id", flat=True))
    assert fake_google.downloads == ["m", "g"] and chunk_ids
    # New name and modifiedTime, same content: no download, no new chunks, the title follows.
    fake_google.put_file(FakeFile("m", "Final.txt", "text/plain", same, modified_time="2026-03-01T00:00:00Z"))
    fake_google.put_file(FakeFile("g", "Plan v2", DOC, b"a google doc has no md5", modified_time="2026-03-01T00:00:00Z"))
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.skipped, result.ingested) == (1, 1)
    assert fake_google.downloads == ["m", "g", "g"]  # the Google Doc is exported again (no md5 to compare)
    stored = docs(drive_user)
    assert stored["m"].title == "Final.txt" and stored["m"].modified_at.isoformat() == "2026-03-01T00:00:00+00:00"
    assert set(Chunk.objects.filter(document=stored["m"]).values_list("qdrant_id", flat=True)) == chunk_ids
    assert stored["g"].title == "Plan v2"
    # New content (a new md5) is downloaded and re-indexed.
    fake_google.put_file(FakeFile("m", "Final.txt", "text/plain", b"Rewritten from scratch.",
                                  modified_time="2026-04-01T00:00:00Z"))
    sync_connection(connection_id=drive_user.pk)
    assert fake_google.downloads.count("m") == 2
    assert Chunk.objects.filter(document=docs(drive_user)["m"], text__contains="Rewritten").exists()


FIELD_GUIDE = google_doc("g1", "Field guide", [
    "Notes from a year at the lake.", (1, "Herons"), "The heron nests by the quiet river every spring.",
    (2, "Feeding"), "Herons wade slowly and strike at small fish.", (1, "Otters"), "Otters play on the bank at dusk.",
])


def test_a_google_doc_is_exported_as_html_and_its_passages_carry_their_section(fake_google, drive_user, client,
                                                                             vector_index):
    """The real google client exports the Doc as HTML; its headings become each chunk's path, and a
    result shows the section and links to the Doc in Drive."""
    from chunks.outbox.drain import drain

    fake_google.put_file(FIELD_GUIDE)
    assert sync_connection(connection_id=drive_user.pk).ingested == 1
    assert any("/files/g1/export" in r and "mimeType=text%2Fhtml" in r for r in fake_google.requests)
    document = docs(drive_user)["g1"]
    assert document.mime_type == "text/html"
    paths = {c.text: c.metadata["headings"] for c in Chunk.objects.filter(document=document)}
    assert paths == {"Notes from a year at the lake.": [],
                     "The heron nests by the quiet river every spring.": ["Herons"],
                     "Herons wade slowly and strike at small fish.": ["Herons", "Feeding"],
                     "Otters play on the bank at dusk.": ["Otters"]}
    drain()
    client.force_login(drive_user.user)
    html = client.get("/search/", {"q": "strike small fish", "mode": "sparse"}).content.decode()
    assert ('<a href="https://drive.google.com/file/d/g1/view">Field guide</a><span class="location"> › Herons › '
            'Feeding</span>' in html)


def test_a_doc_whose_html_is_over_googles_export_limit_comes_as_text(fake_google, drive_user):
    fake_google.export_limit = len(FIELD_GUIDE.exports["text/plain"])  # the HTML is larger
    fake_google.put_file(FIELD_GUIDE)
    assert (sync_connection(connection_id=drive_user.pk).ingested) == 1
    document = docs(drive_user)["g1"]
    assert document.mime_type == "text/plain" and document.state == "ready"
    assert Chunk.objects.filter(document=document, text__contains="strike at small fish").exists()
