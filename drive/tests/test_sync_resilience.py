"""What Google does to a long sync, against the fake Google over HTTP: unreachable (a closed port,
an unknown host), incomplete listings, refused page tokens and cursors, a listing that loops,
exports over Google's limit, downloads over ours; and a second "Sync now" joining the first."""
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from chunks.models import Chunk, Document
from drive.models import DriveConnection, ProcessingLane, SyncItem, SyncRun
from drive.services import batching, files, listing, runs
from drive.services.sync import sync_connection
from drive.tasks import enqueue_connected_syncs, request_sync
from drive.tests.fake_google import FakeFile

DOC = "application/vnd.google-apps.document"


@pytest.fixture
def drive_user(fake_google, make_connection, embedder):
    return make_connection("nina", token=fake_google.grant("nina@gmail.example"))


def text_files(fake_google, count, prefix="f", **fields):
    for n in range(count):
        fake_google.put_file(FakeFile(f"{prefix}{n}", f"{prefix}{n}.txt", "text/plain",
                                      f"Note {prefix}{n} about herons and rivers.".encode(), **fields))


def indexed(connection) -> set[str]:
    return set(Document.objects.filter(owner=connection.user, source="drive", state="ready")
               .values_list("source_id", flat=True))


def latest_run(connection) -> SyncRun:
    return connection.sync_runs.first()


def page(connection) -> str:
    client = Client()
    client.force_login(connection.user)
    return client.get("/drive/").content.decode()


# --- Google unreachable is a state -------------------------------------------------------------

def test_google_unreachable_waits_and_a_later_retry_completes(fake_google, drive_user, recorded_sleeps):
    text_files(fake_google, 3)
    fake_google.go_offline()  # the port is closed: connection refused, during the token refresh
    result = sync_connection(connection_id=drive_user.pk)
    drive_user.refresh_from_db()
    run = latest_run(drive_user)
    assert run.phase == SyncRun.Phase.WAITING and run.retry_at > timezone.now()
    assert drive_user.status == DriveConnection.Status.CONNECTED  # not "needs reconnect"
    assert "could not be reached" in result.stopped and "ConnectionRefusedError" in run.last_error
    assert len(recorded_sleeps) == 3  # DRIVE_MAX_RETRIES, then it waits instead of failing
    html = page(drive_user)
    hhmm = timezone.localtime(run.unreachable_at).strftime("%H:%M")
    retry = timezone.localtime(run.retry_at).strftime("%H:%M")
    assert f"Google could not be reached at {hhmm}; will retry at {retry}." in html
    assert "Reconnect Google Drive" not in html

    # Before its retry time the schedule leaves it; after, the schedule resumes the same run.
    fake_google.go_online()
    assert enqueue_connected_syncs() == 0 and latest_run(drive_user).phase == SyncRun.Phase.WAITING
    SyncRun.objects.filter(pk=run.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert enqueue_connected_syncs() == 1
    run.refresh_from_db()
    assert run.phase == SyncRun.Phase.DONE and indexed(drive_user) == {"f0", "f1", "f2"}
    assert SyncRun.objects.filter(connection=drive_user).count() == 1


def test_an_unknown_host_is_unreachable_too(fake_google, drive_user, settings, recorded_sleeps):
    settings.GOOGLE_TOKEN_URI = "http://no-such-host.invalid/token"  # google-auth raises TransportError
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.phase == SyncRun.Phase.WAITING and "TransportError" in run.last_error
    drive_user.refresh_from_db()
    assert drive_user.status == DriveConnection.Status.CONNECTED


def test_google_lost_during_downloads_releases_the_batch(fake_google, drive_user, monkeypatch, recorded_sleeps):
    text_files(fake_google, 4)
    real_download = files.download

    def download_then_lose_google(resource, file):
        fake_google.go_offline()
        return real_download(resource, file)

    monkeypatch.setattr("drive.services.processing.download", download_then_lose_google)
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.phase == SyncRun.Phase.WAITING and run.listing_done
    # The batch went back to the queue, not counted against the files.
    assert set(run.items.values_list("state", "attempts")) == {(SyncItem.State.QUEUED, 0)}
    assert not Document.objects.filter(owner=drive_user.user, state="failed").exists()
    monkeypatch.setattr("drive.services.processing.download", real_download)
    fake_google.go_online()
    assert sync_connection(connection_id=drive_user.pk).ingested == 4  # "Sync now" resumes it at once
    assert fake_google.downloads.count("f0") == 1


# --- Google's listing signals ------------------------------------------------------------------

def test_incomplete_search_restarts_that_listing(realistic_google, drive_user):
    text_files(realistic_google, 5)
    realistic_google.incomplete_next()
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.listing_complete and run.plan[0]["restarts"] == 1 and indexed(drive_user) == {f"f{n}" for n in range(5)}
    drive_user.refresh_from_db()
    assert drive_user.changes_page_token == run.start_page_token


def test_a_listing_google_keeps_calling_incomplete_prunes_nothing_and_is_reported(fake_google, drive_user):
    text_files(fake_google, 2)
    sync_connection(connection_id=drive_user.pk)
    fake_google.remove_file("f1")
    drive_user.refresh_from_db()
    drive_user.changes_page_token = ""  # a full listing (as after a new folder choice)
    drive_user.save()
    for _ in range(listing.LISTING_RESTARTS + 1):
        fake_google.incomplete_next()
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.phase == SyncRun.Phase.DONE and not run.listing_complete
    assert "incomplete (incompleteSearch), 3 times" in run.last_error
    assert indexed(drive_user) == {"f0", "f1"}  # nothing removed on an incomplete listing
    drive_user.refresh_from_db()
    assert drive_user.changes_page_token == ""  # not stored: the next sync lists in full again
    assert "Listing incomplete" in page(drive_user)


def test_a_refused_page_token_restarts_that_listing(fake_google, drive_user, settings):
    settings.DRIVE_LISTING_PAGES_PER_TASK = 1
    text_files(fake_google, 6)  # 3 pages of 2
    run, _ = runs.start_or_join(drive_user)
    listing.list_slice(run_id=run.pk)  # plans and lists one page
    run.refresh_from_db()
    run.plan[0]["page_token"] = "expired-token"  # a saved token Google no longer accepts
    run.save(update_fields=["plan"])
    sync_connection(connection_id=drive_user.pk)
    run.refresh_from_db()
    assert run.phase == SyncRun.Phase.DONE and run.listing_complete and run.plan[0]["restarts"] == 1
    assert indexed(drive_user) == {f"f{n}" for n in range(6)}


def test_a_refused_changes_cursor_turns_into_a_full_listing(fake_google, drive_user):
    text_files(fake_google, 2)
    sync_connection(connection_id=drive_user.pk)
    fake_google.put_file(FakeFile("new", "new.txt", "text/plain", b"Written after the first sync."))
    fake_google.fail_next("/drive/v3/changes?", 410, reason="deleted")
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.kind == SyncRun.Kind.FULL and run.phase == SyncRun.Phase.DONE
    assert "refused the stored changes cursor (HTTP 410)" in run.last_error
    assert indexed(drive_user) == {"f0", "f1", "new"}
    drive_user.refresh_from_db()
    assert drive_user.changes_page_token == run.start_page_token


def test_a_page_token_handed_back_again_is_a_loop_reported_not_followed(fake_google, drive_user):
    text_files(fake_google, 8)  # pages of 2: p2 would lead to itself for ever
    fake_google.repeat_page_token("p2")
    sync_connection(connection_id=drive_user.pk)
    run = latest_run(drive_user)
    assert run.phase == SyncRun.Phase.DONE and not run.listing_complete
    assert "already given" in run.last_error
    assert sum("pageToken=p2" in r for r in fake_google.requests) == 1
    assert indexed(drive_user) == {"f0", "f1", "f2", "f3"}


def test_a_sync_without_progress_is_stopped_with_the_reason(fake_google, drive_user, settings):
    run, _ = runs.start_or_join(drive_user)
    assert runs.made_progress(run)
    SyncRun.objects.filter(pk=run.pk).update(progress_at=timezone.now() - timedelta(minutes=settings.DRIVE_STALL_MINUTES + 1))
    run.refresh_from_db()
    assert not runs.made_progress(run)
    run.refresh_from_db()
    assert run.phase == SyncRun.Phase.STOPPED and "No progress for" in run.last_error
    assert "The last sync stopped" in page(drive_user) and "No progress for" in page(drive_user)


def test_a_file_that_keeps_killing_its_worker_fails_alone(fake_google, drive_user):
    text_files(fake_google, 1)
    run, _ = runs.start_or_join(drive_user)
    listing.list_slice(run_id=run.pk)
    for _ in range(batching.MAX_ATTEMPTS):  # claimed, then the worker dies: the lease runs out
        assert batching.claim_batch(run_id=run.pk) is not None
        SyncItem.objects.filter(run=run).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert batching.claim_batch(run_id=run.pk) is None
    item = run.items.get()
    assert item.outcome == SyncItem.Outcome.FAILED and "interrupted 3 times" in item.error
    assert Document.objects.get(owner=drive_user.user, source_id="f0").state == "failed"


# --- file limits ---------------------------------------------------------------------------------

def test_an_export_over_googles_limit_fails_that_file_alone(fake_google, drive_user):
    fake_google.export_limit = 100
    fake_google.put_file(FakeFile("big-doc", "Big report", DOC, b"long text " * 20))
    fake_google.put_file(FakeFile("small-doc", "Small note", DOC, b"A short Google Doc."))
    result = sync_connection(connection_id=drive_user.pk)
    assert (result.ingested, result.failed) == (1, 1)
    big = Document.objects.get(owner=drive_user.user, source_id="big-doc")
    assert big.state == "failed" and "10 MB export limit (exportSizeLimitExceeded)" in big.error
    assert "Big report" in page(drive_user)


def test_downloads_stream_in_chunks_and_stop_at_the_limit(fake_google, drive_user, settings, monkeypatch):
    monkeypatch.setattr(files, "DOWNLOAD_CHUNK_BYTES", 1000)
    settings.DRIVE_MAX_FILE_BYTES = 5000
    # Listed without a size: only the download itself can tell it is too large.
    fake_google.put_file(FakeFile("huge", "huge.txt", "text/plain", b"a" * 20_000, hide_size=True))
    fake_google.put_file(FakeFile("fits", "fits.txt", "text/plain", b"Herons nest by rivers. " * 130, hide_size=True))
    sync_connection(connection_id=drive_user.pk)
    huge = Document.objects.get(owner=drive_user.user, source_id="huge")
    assert huge.state == "failed" and "passed the 5,000-byte limit" in huge.error
    sent = [last - first + 1 for file_id, first, last in fake_google.served_ranges if file_id == "huge"]
    assert max(sent) <= 1000 and sum(sent) <= 6000  # never the whole file, and stopped past the limit
    assert [r for r in fake_google.served_ranges if r[0] == "fits"] == [("fits", 0, 999), ("fits", 1000, 1999),
                                                                      ("fits", 2000, 2989)]
    assert indexed(drive_user) == {"fits"}


# --- one sync at a time, and the settings that bound it ---------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_second_sync_now_joins_the_running_sync(fake_google, drive_user, task_queue):
    text_files(fake_google, 3)
    client = Client()
    client.force_login(drive_user.user)
    first = client.post("/drive/sync/", follow=True).content.decode()
    second = client.post("/drive/sync/", follow=True).content.decode()
    assert "Sync started." in first and "already running" in second
    assert SyncRun.objects.filter(connection=drive_user).count() == 1
    assert enqueue_connected_syncs() == 1  # the schedule's tick joins it too
    task_queue.run()
    assert latest_run(drive_user).phase == SyncRun.Phase.DONE and indexed(drive_user) == {"f0", "f1", "f2"}
    assert Chunk.objects.filter(owner=drive_user.user).count() == 3


def test_task_bound_must_fit_in_the_worker_timeout(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60}
    settings.DRIVE_TASK_SECONDS = 30
    assert "ragbase.E013" not in [m.id for m in run_checks()]
    settings.DRIVE_TASK_SECONDS = 45
    assert "ragbase.E013" in [m.id for m in run_checks()]


def test_progress_json_needs_login_and_shows_only_the_users_own(fake_google, drive_user, make_connection):
    other = make_connection("omar", token=fake_google.grant("omar@gmail.example"))
    text_files(fake_google, 2)
    sync_connection(connection_id=drive_user.pk)
    assert Client().get("/drive/progress/").status_code == 302
    client = Client()
    client.force_login(other.user)
    data = client.get("/drive/progress/").json()
    assert data["connected"] and data["phase"] == "" and data["files_indexed"] == 0
    client.force_login(drive_user.user)
    data = client.get("/drive/progress/").json()
    assert (data["phase"], data["found"], data["done"], data["files_indexed"]) == ("done", 2, 2, 2)


@pytest.mark.django_db(transaction=True)
def test_the_schedule_restarts_a_chain_whose_tasks_were_lost(fake_google, drive_user, task_queue, settings):
    """Every worker restarted (the queued tasks gone, or their worker killed): the next tick revives
    the listing and the processing lanes of the same run, with new tickets."""
    settings.DRIVE_LISTING_PAGES_PER_TASK = 1
    text_files(fake_google, 6)
    request_sync(drive_user)
    func, args = task_queue.queue.popleft()  # the listing's first slice runs...
    import_string(func)(*args)
    task_queue.queue.clear()  # ...then its successor and the lanes are lost
    run = latest_run(drive_user)
    assert not run.listing_done
    assert enqueue_connected_syncs() == 1 and not task_queue.queue  # alive a moment ago: left alone
    stale = timezone.now() - timedelta(minutes=10)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    ProcessingLane.objects.update(heartbeat_at=stale)
    assert enqueue_connected_syncs() == 1
    task_queue.run()
    assert latest_run(drive_user).phase == SyncRun.Phase.DONE and indexed(drive_user) == {f"f{n}" for n in range(6)}


def test_metrics_export_the_sync_backlog(fake_google, drive_user, client):
    text_files(fake_google, 5)
    run, _ = runs.start_or_join(drive_user)
    listing.list_slice(run_id=run.pk)
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'ragbase_drive_sync_files{state="queued"} 5.0' in text
    assert 'ragbase_drive_sync_runs{phase="processing"} 1.0' in text
    assert "ragbase_drive_sync_oldest_heartbeat_seconds" in text and "ragbase_drive_sync_errors_total" in text


def test_the_admin_shows_each_connections_sync(fake_google, drive_user, admin_client):
    text_files(fake_google, 3)
    run, _ = runs.start_or_join(drive_user)
    listing.list_slice(run_id=run.pk)
    change = admin_client.get(f"/admin/drive/driveconnection/{drive_user.pk}/change/").content.decode()
    assert "Processing files: 3 found, 0 done, 0 failed, 3 waiting, 0 in progress" in change
    assert "Processing files (0/3)" in admin_client.get("/admin/drive/driveconnection/").content.decode()
    assert admin_client.get(f"/admin/drive/syncrun/{run.pk}/change/").status_code == 200
    assert admin_client.get("/admin/drive/processinglane/").status_code == 200
