import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pgserver
import pytest
from django.db import connection as db
from social_django.models import UserSocialAuth

from chunks.models import Chunk, Document
from drive.models import DriveConnection
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile


def begin(client, fake_google):
    response = client.post("/login/google-oauth2/")
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == fake_google.url + "/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def connect(client, fake_google, email):
    params = begin(client, fake_google)
    code = fake_google.issue_code(email)
    response = client.get("/complete/google-oauth2/", {"state": params["state"], "code": code})
    return params, response


def test_connect_flow_stores_the_refresh_token_encrypted_only(client, fake_google, make_user):
    user = make_user("fay")
    client.force_login(user)
    params, response = connect(client, fake_google, "fay@gmail.example")
    assert params["access_type"] == "offline" and params["prompt"] == "consent"
    assert "https://www.googleapis.com/auth/drive.readonly" in params["scope"].split()
    assert params["client_id"] == "test-client-id"
    assert params["redirect_uri"] == "http://testserver/complete/google-oauth2/"
    assert response.status_code == 302 and response["Location"] == "/drive/"
    connection = DriveConnection.objects.get(user=user)
    assert connection.status == DriveConnection.Status.CONNECTED
    assert connection.google_email == "fay@gmail.example"
    assert connection.refresh_token in fake_google.refresh_tokens
    social = UserSocialAuth.objects.get(user=user)
    assert not {"access_token", "refresh_token"} & set(social.extra_data)
    with db.cursor() as cursor:
        cursor.execute("SELECT encrypted_refresh_token FROM drive_driveconnection WHERE id = %s", [connection.pk])
        assert connection.refresh_token.encode() not in bytes(cursor.fetchone()[0])
    page = client.get("/drive/").content.decode()
    assert "fay@gmail.example" in page and "Sync now" in page and connection.refresh_token not in page


@pytest.mark.reliability
def test_callback_rejects_a_bad_or_replayed_state(client, fake_google, make_user):
    user = make_user("gus")
    client.force_login(user)
    params = begin(client, fake_google)
    response = client.get("/complete/google-oauth2/", {"state": "forged", "code": fake_google.issue_code("g@x.example")})
    assert response.status_code == 302 and response["Location"].startswith("/drive/")
    assert not DriveConnection.objects.filter(user=user).exists()
    assert not any(r.startswith("POST /token") for r in fake_google.requests)
    # The genuine state works once...
    client.get("/complete/google-oauth2/", {"state": params["state"], "code": fake_google.issue_code("g@x.example")})
    assert DriveConnection.objects.filter(user=user).exists()
    first_token = DriveConnection.objects.get(user=user).refresh_token
    token_requests = sum(r.startswith("POST /token") for r in fake_google.requests)
    # ...and a replay of it is refused before any code exchange.
    response = client.get("/complete/google-oauth2/", {"state": params["state"], "code": fake_google.issue_code("g@x.example")})
    assert response.status_code == 302 and response["Location"].startswith("/drive/")
    assert sum(r.startswith("POST /token") for r in fake_google.requests) == token_requests
    assert DriveConnection.objects.get(user=user).refresh_token == first_token


def test_connect_requires_login(client, fake_google, db):
    response = client.get("/drive/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get("/complete/google-oauth2/", {"state": "x", "code": "y"})
    assert not DriveConnection.objects.exists()


def test_disconnect_revokes_and_removes_documents(client, fake_google, make_user, embedder):
    user = make_user("hal")
    client.force_login(user)
    connect(client, fake_google, "hal@gmail.example")
    token = DriveConnection.objects.get(user=user).refresh_token
    fake_google.put_file(FakeFile("h1", "H", "text/plain", b"hal's drive text"))
    sync_connection(connection_id=DriveConnection.objects.get(user=user).pk)
    assert Document.objects.filter(owner=user, source="drive").count() == 1
    response = client.post("/drive/disconnect/")
    assert response.status_code == 302
    assert token in fake_google.revoked
    assert not DriveConnection.objects.filter(user=user).exists()
    assert not UserSocialAuth.objects.filter(user=user).exists()
    assert not Document.objects.filter(owner=user).exists() and not Chunk.objects.filter(owner=user).exists()


def test_pages_need_csrf(fake_google, make_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user("ivy"))
    assert csrf_client.post("/drive/sync/").status_code == 403
    assert csrf_client.post("/drive/disconnect/").status_code == 403


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
    secrets = list(fake_google.refresh_tokens) + list(fake_google.access_tokens)
    assert len(secrets) >= 6
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
        for secret in secrets:
            assert secret not in text, f"a token leaked into {where}"
