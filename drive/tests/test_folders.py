"""The folder picker (/drive/folders/) and subfolder semantics in sync, against the fake Google."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from chunks.models import Document
from drive.models import DriveConnection
from drive.services import sync
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
    """(indent, folder id, checked) of each checkbox of the picker, in page order."""
    pattern = r'<li style="padding-left: ([^"]+)"><label>\s*<input type="checkbox" name="folder" value="([^"]+)" ?(checked)?'
    return [(indent, value, bool(checked)) for indent, value, checked in re.findall(pattern, html)]


def post_picker(client, data):
    page = client.get("/drive/folders/")
    return client.post("/drive/folders/", {**data, "csrfmiddlewaretoken": page.cookies["csrftoken"].value})


# --- subfolders in sync --------------------------------------------------------------------------

@pytest.fixture
def synced_user(drive_user, embedder):
    return drive_user


def test_a_chosen_folder_includes_everything_below_it(fake_google, synced_user, folders, monkeypatch):
    monkeypatch.setattr(sync, "PARENTS_PER_QUERY", 2)  # 3 folders in scope → 2 bounded queries
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
