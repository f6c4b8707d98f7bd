"""Google's tokens never reach the disk or a readable place in plaintext: not a database row (live
or dead), not the WAL, not a session, a task row, a log line, a page or the media folder."""
import secrets
import subprocess
from pathlib import Path

import pgserver
import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection as db
from django_q.models import OrmQ, Task
from social_django.models import Association, Code, Nonce, Partial, UserSocialAuth

from chunks.models import Document
from drive.models import DriveConnection
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile
from drive.tests.oauth import connect


def _pg_dump() -> str:
    """A data dump of the test database with the pg_dump that pgserver ships."""
    db.ensure_connection()
    info = db.connection.info  # psycopg's resolved connection parameters (pgserver uses a socket dir)
    pg_dump = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    command = [str(pg_dump), "--data-only", "-d", info.dbname, "-U", info.user, "-h", info.host, "-p", str(info.port)]
    env = {"PGPASSWORD": db.settings_dict.get("PASSWORD") or ""}
    result = subprocess.run(command, capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode(errors="replace")


def issued_tokens(fake_google) -> set[str]:
    """Every refresh and access token the fake Google handed out (revoked ones included)."""
    return set(fake_google.refresh_tokens) | set(fake_google.revoked) | set(fake_google.access_tokens)


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_no_plaintext_token_anywhere(client, fake_google, django_user_model, admin_client, caplog, embedder):
    caplog.set_level("DEBUG")
    fake_google.put_file(FakeFile("s1", "Shared", "text/plain", b"shared text for everyone"))
    for name in ["u1", "u2", "u3"]:
        user = django_user_model.objects.create_user(name, password="pw")
        client.force_login(user)
        connect(client, fake_google, f"{name}@gmail.example")
        sync_connection(connection_id=DriveConnection.objects.get(user=user).pk)
    tokens = issued_tokens(fake_google)
    assert len(tokens) >= 6
    assert DriveConnection.objects.filter(status="connected").count() == 3
    haystacks = {"pg_dump": _pg_dump(), "logs": caplog.text}
    haystacks["extra_data"] = str(list(UserSocialAuth.objects.values_list("extra_data", flat=True)))
    for pk in DriveConnection.objects.values_list("pk", flat=True):
        haystacks[f"admin change {pk}"] = admin_client.get(f"/admin/drive/driveconnection/{pk}/change/").content.decode()
    haystacks["admin list"] = admin_client.get("/admin/drive/driveconnection/").content.decode()
    haystacks["social admin list"] = admin_client.get("/admin/social_django/usersocialauth/").content.decode()
    for pk in UserSocialAuth.objects.values_list("pk", flat=True):
        haystacks[f"social change {pk}"] = admin_client.get(
            f"/admin/social_django/usersocialauth/{pk}/change/").content.decode()
    assert "encrypted, key id" in haystacks["admin list"]
    assert "drive_driveconnection" in haystacks["pg_dump"]
    for where, text in haystacks.items():
        for token in tokens:
            assert token not in text, f"a token leaked into {where}"


def data_directory() -> Path:
    with db.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        folder = Path(cursor.fetchone()[0])
    if not folder.is_dir():
        pytest.skip(f"the database's data directory {folder} is not on this machine")
    return folder


def flush_to_disk() -> None:
    """Write every dirty page to the heap files and start a new WAL segment."""
    with db.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT pg_switch_wal()")
        cursor.execute("CHECKPOINT")


def files_holding(needles: set[str], folders: list[Path], tmp_path: Path) -> list[str]:
    """The files under `folders` that contain any needle's bytes (grep -F, as an attacker would)."""
    patterns = tmp_path / "needles.txt"
    patterns.write_text("\n".join(sorted(needles)) + "\n")
    result = subprocess.run(["grep", "-rlaF", "--devices=skip", "-f", str(patterns), *map(str, folders)],
                            capture_output=True, text=True, timeout=300)
    # Postgres may recycle a WAL file while grep walks the folder; any other error is a failure.
    errors = [line for line in result.stderr.splitlines() if "No such file or directory" not in line]
    assert result.returncode in (0, 1) or not errors, result.stderr
    return result.stdout.splitlines()


def decoded_stores() -> dict[str, str]:
    """What is stored encoded (signed sessions, pickled task rows), decoded; social-auth's tables."""
    stores = {"sessions": str([s.get_decoded() for s in Session.objects.all()]),
              "task rows": str([(t.func, t.args, t.kwargs, t.result) for t in Task.objects.all()]),
              "queued tasks": str([q.task() for q in OrmQ.objects.all()])}
    for model in (UserSocialAuth, Partial, Code, Nonce, Association):
        stores[model._meta.db_table] = str(list(model.objects.values()))
    return stores


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_no_token_bytes_on_disk_after_connect_sync_reconnect_and_rotation(
    client, fake_google, django_user_model, caplog, capfd, embedder, settings, tmp_path
):
    """Users connect through the real callback, sync from the page (a django-q2 task: token
    refresh in google-auth), one reconnects, one disconnects (revoke), the key rotates; then
    CHECKPOINT and a WAL switch, and every file of the data directory (heap, dead tuples, WAL),
    the media folder, the vector store and the logs are searched for every token's bytes."""
    caplog.set_level("DEBUG")
    fake_google.put_file(FakeFile("t1", "Team notes", "text/plain", b"notes that every user can read"))
    users = []
    for name in ["disk1", "disk2", "disk3"]:
        user = django_user_model.objects.create_user(name, password="pw")
        client.force_login(user)
        connect(client, fake_google, f"{name}@gmail.example")
        assert client.post("/drive/sync/").status_code == 302
        users.append(user)
    client.force_login(users[0])
    connect(client, fake_google, "disk1@gmail.example")  # reconnect: a new refresh token
    client.force_login(users[2])
    client.post("/drive/disconnect/")
    settings.APP_ENCRYPTION_RETIRED_KEYS = [settings.APP_ENCRYPTION_KEY]
    settings.APP_ENCRYPTION_KEY = secrets.token_bytes(32)
    call_command("rotate_encryption_key", verbosity=0)
    sync_connection(connection_id=DriveConnection.objects.get(user=users[1]).pk)  # under the new key

    assert Document.objects.filter(source="drive", state="ready").count() == 2
    assert DriveConnection.objects.filter(status="connected").count() == 2
    tokens = issued_tokens(fake_google)
    assert len(tokens) >= 10 and fake_google.revoked  # 4 grants, 6+ access tokens, 1 revocation
    # A canary proves the search sees table rows: written through the ORM like any token would be.
    canary = "canary-" + secrets.token_urlsafe(16)
    Document.objects.filter(owner=users[0]).update(error=canary)
    flush_to_disk()

    folders = [data_directory(), Path(settings.MEDIA_ROOT), Path(settings.QDRANT_PATH)]
    folders = [folder for folder in folders if folder.exists()]
    assert files_holding({canary}, folders[:1], tmp_path), "the canary row is not in the data directory"
    assert files_holding(tokens, folders, tmp_path) == []
    output = capfd.readouterr()
    texts = {"logs": caplog.text, "stdout": output.out, "stderr": output.err, **decoded_stores()}
    for where, text in texts.items():
        assert not [token for token in tokens if token in text], f"a token is in the {where}"
