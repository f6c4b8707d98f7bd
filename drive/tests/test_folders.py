"""The folder picker (/drive/folders/) and subfolder semantics in sync, against the fake Google."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from chunks.models import Document
from drive.models import DriveConnection
from drive.services import listing
from drive.services.sync import sync_connection
from drive.services.tokens import REVOKED_MESSAGE
from drive.tests.fake_google import FakeFile


@pytest.fixture
def drive_user(fake_google, make_connection):
    return make_connection("olga", token=fake_google.grant("olga@gmail.example"))


@pytest.fixture
def user_client(drive_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(drive_user.user)
    return client


@pytest.fixture
def folders(fake_google):
    """Projects/ → Reports/ → 2026/, Personal/, and a shared drive Team with Handbook/ at its top."""
    fake_google.put_folder("F-projects", "Projects")
    fake_google.put_folder("F-reports", "Reports", parents=["F-projects"])
    fake_google.put_folder("F-2026", "2026", parents=["F-reports"])
    fake_google.put_folder("F-personal", "Personal")
    fake_google.shared_drives["SD-team"] = "Team"
    fake_google.put_folder("F-handbook", "Handbook", parents=["SD-team"], drive_id="SD-team")


def docs(connection):
    return set(Document.objects.filter(owner=connection.user, source="drive").values_list("source_id", flat=True))


def files_queries(fake_google) -> list[str]:
    """The q of each files.list call that listed files (not folders)."""
    queries = []
    for request in fake_google.requests:
        if request.startswith("GET /drive/v3/files?"):
            q = parse_qs(urlparse(request.split(" ", 1)[1]).query).get("q", [""])[0]
            if "mimeType != " in q:
                queries.append(q)
    return queries


def picker_rows(html: str) -> list[tuple[str, str, bool]]:
    """(depth, folder id, checked) of each checkbox of the picker, in page order."""
    pattern = r'<li>((?:<span class="indent"></span>)*)<label>\s*<input type="checkbox" name="folder" value="([^"]+)" ?(checked)?'
    return [(indents.count("<span"), value, bool(checked)) for indents, value, checked in re.findall(pattern, html)]


def post_picker(client, data):
    page = client.get("/drive/folders/")
    return client.post("/drive/folders/", {**data, "csrfmiddlewaretoken": page.cookies["csrftoken"].value})


# --- the picker ----------------------------------------------------------------------------------

def test_picker_lists_nested_folders_and_saves_a_selection(fake_google, drive_user, user_client, folders):
    drive_user.folder_ids = ["F-personal"]
    drive_user.changes_page_token = "7"
    drive_user.save()
    html = user_client.get("/drive/folders/").content.decode()
    assert picker_rows(html) == [
        (0, "F-personal", True),  # the current selection is ticked
        (0, "F-projects", False),
        (1, "F-reports", False),
        (2, "F-2026", False),
    ]  # no shared drive unless asked for
    assert "Whole Drive (no folder selected)" in html and "Include shared drives" in html
    assert any("mimeType+%3D+%27application%2Fvnd.google-apps.folder%27" in r for r in fake_google.requests)

    response = post_picker(user_client, {"scope": "folders", "folder": ["F-reports", "F-personal"]})
    assert response.status_code == 302 and response["Location"] == "/drive/"
    drive_user.refresh_from_db()
    assert drive_user.folder_ids == ["F-reports", "F-personal"] and not drive_user.include_shared_drives
    assert drive_user.changes_page_token == ""  # the next sync lists in full

    # Shared drives: listed through drives.list on request, their folders nested under them.
    html = user_client.get("/drive/folders/?shared=1").content.decode()
    assert (0, "SD-team", False) in picker_rows(html) and (1, "F-handbook", False) in picker_rows(html)
    assert any(r.startswith("GET /drive/v3/drives?") for r in fake_google.requests)
    response = post_picker(user_client, {"scope": "folders", "folder": ["F-handbook"], "include_shared_drives": "on"})
    assert response.status_code == 302
    drive_user.refresh_from_db()
    assert drive_user.folder_ids == ["F-handbook"] and drive_user.include_shared_drives

    response = post_picker(user_client, {"scope": "whole", "include_shared_drives": "on"})
    drive_user.refresh_from_db()
    assert response.status_code == 302 and drive_user.folder_ids == [] and drive_user.include_shared_drives


def test_picker_rejects_a_folder_the_listing_did_not_return(fake_google, drive_user, user_client, folders):
    drive_user.folder_ids = ["F-personal"]
    drive_user.changes_page_token = "7"
    drive_user.save()
    response = post_picker(user_client, {"scope": "folders", "folder": ["F-projects", "someone-elses-folder"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not a folder in your Google Drive" in html and "someone-elses-folder" in html and "Nothing was saved" in html
    # A shared drive's folder needs "Include shared drives" (without it the listing has no such folder).
    response = post_picker(user_client, {"scope": "folders", "folder": ["F-handbook"]})
    assert response.status_code == 400 and "Include shared drives" in response.content.decode()
    response = post_picker(user_client, {"scope": "folders"})
    assert response.status_code == 400 and "Tick at least one folder" in response.content.decode()
    drive_user.refresh_from_db()
    assert drive_user.folder_ids == ["F-personal"] and drive_user.changes_page_token == "7"


def test_picker_needs_login_and_csrf(fake_google, drive_user, user_client, folders):
    drive_user.folder_ids = ["F-personal"]
    drive_user.save()
    response = Client().get("/drive/folders/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert user_client.post("/drive/folders/", {"scope": "whole"}).status_code == 403
    drive_user.refresh_from_db()
    assert drive_user.folder_ids == ["F-personal"]


def test_picker_with_a_revoked_grant_asks_to_reconnect(fake_google, drive_user, user_client, folders):
    fake_google.revoke_all()
    response = user_client.get("/drive/folders/")
    assert response.status_code == 200
    html = response.content.decode()
    assert REVOKED_MESSAGE in html and "Reconnect Google Drive" in html and 'name="folder"' not in html
    drive_user.refresh_from_db()
    assert drive_user.status == DriveConnection.Status.NEEDS_RECONNECT and drive_user.status_message == REVOKED_MESSAGE
    assert "reconnect" in user_client.get("/drive/").content.decode()


# --- subfolders in sync --------------------------------------------------------------------------

@pytest.fixture
def synced_user(drive_user, embedder):
    return drive_user


def test_a_chosen_folder_includes_everything_below_it(fake_google, synced_user, folders, monkeypatch):
    monkeypatch.setattr(listing, "PARENTS_PER_QUERY", 2)  # 3 folders in scope → 2 bounded queries
    synced_user.folder_ids = ["F-projects"]
    synced_user.save()
    fake_google.put_file(FakeFile("deep", "Deep", "text/plain", b"two folders down", parents=["F-2026"]))
    fake_google.put_file(FakeFile("top", "Top", "text/plain", b"right in the chosen folder", parents=["F-projects"]))
    fake_google.put_file(FakeFile("other", "Other", "text/plain", b"in a folder not chosen", parents=["F-personal"]))
    fake_google.put_file(FakeFile("root", "Root", "text/plain", b"at the top of My Drive", parents=["root"]))
    result = sync_connection(connection_id=synced_user.pk)
    assert result.stopped == "" and docs(synced_user) == {"deep", "top"}
    queries = files_queries(fake_google)
    assert len(queries) == 2 and all(q.count(" in parents") <= 2 for q in queries)
    synced_user.refresh_from_db()
    assert synced_user.synced_scope == ["F-2026", "F-projects", "F-reports"]


def test_changes_api_adds_a_file_created_later_in_a_subfolder(fake_google, synced_user, folders):
    synced_user.folder_ids = ["F-projects"]
    synced_user.save()
    sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == set()
    fake_google.put_file(FakeFile("later", "Later", "text/plain", b"written after the first sync", parents=["F-2026"]))
    fake_google.put_file(FakeFile("outside", "Outside", "text/plain", b"not in the scope", parents=["F-personal"]))
    fake_google.requests.clear()
    result = sync_connection(connection_id=synced_user.pk)
    assert (result.ingested, result.stopped) == (1, "") and docs(synced_user) == {"later"}
    assert files_queries(fake_google) == []  # the changes API, no file listing
    assert any(r.startswith("GET /drive/v3/changes?") for r in fake_google.requests)


def test_folders_moving_in_and_out_of_scope(fake_google, synced_user, folders):
    synced_user.folder_ids = ["F-projects"]
    synced_user.save()
    fake_google.put_folder("F-archive", "Archive")  # outside the scope for now
    fake_google.put_file(FakeFile("old", "Old", "text/plain", b"an old file in the archive", parents=["F-archive"]))
    fake_google.put_file(FakeFile("rep", "Report", "text/plain", b"a report filed long ago", parents=["F-reports"]))
    sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == {"rep"}
    # The archive moves under Projects: the changes API reports the folder only, not the file in it.
    fake_google.put_folder("F-archive", "Archive", parents=["F-projects"])
    sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == {"rep", "old"}
    # Reports moves out of Projects: its file leaves the index although the file did not change.
    fake_google.put_folder("F-reports", "Reports", parents=["root"])
    result = sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == {"old"} and result.removed == 1


def test_narrowing_the_choice_removes_what_is_now_outside(fake_google, synced_user, folders, user_client):
    fake_google.put_file(FakeFile("p", "P", "text/plain", b"a personal note", parents=["F-personal"]))
    fake_google.put_file(FakeFile("r", "R", "text/plain", b"a yearly report", parents=["F-2026"]))
    sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == {"p", "r"}
    assert post_picker(user_client, {"scope": "folders", "folder": ["F-projects"]}).status_code == 302
    sync_connection(connection_id=synced_user.pk)
    assert docs(synced_user) == {"r"}


def test_changing_the_folder_choice_during_a_sync_stops_it(fake_google, synced_user, folders, user_client):
    from drive.models import SyncRun
    from drive.services import runs

    run, _ = runs.start_or_join(synced_user)
    assert post_picker(user_client, {"scope": "folders", "folder": ["F-projects"]}).status_code == 302
    run.refresh_from_db()
    assert run.phase == SyncRun.Phase.STOPPED and "folder choice changed" in run.last_error
    sync_connection(connection_id=synced_user.pk)  # the next sync lists the new choice in full
    assert synced_user.sync_runs.first().kind == SyncRun.Kind.FULL
