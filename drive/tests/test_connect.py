import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.db import connection as db
from social_core.exceptions import AuthPolicyError
from social_django.models import UserSocialAuth

from chunks.models import Chunk, Document
from drive.models import DriveConnection
from drive.pipeline import require_logged_in_user
from drive.services.sync import sync_connection
from drive.tests.fake_google import FakeFile
from drive.tests.oauth import begin, connect
from ragbase.testing import make_user


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
    """An anonymous browser that starts a connect and comes back from Google with a valid state and
    code is refused by the pipeline's require_logged_in_user step: no connection, no association,
    no user is made."""
    response = client.get("/drive/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    params = begin(client, fake_google)  # anonymous: the state lives in the anonymous session
    response = client.get("/complete/google-oauth2/", {"state": params["state"], "code": fake_google.issue_code("x@x.example")})
    # The state was accepted and the code exchanged: what refused the connect is the pipeline step.
    assert any(r.startswith("POST /token") for r in fake_google.requests)
    assert response.status_code == 302 and response["Location"] == "/drive/"
    # social-auth shows its own wording of a policy refusal, whatever the step's text.
    assert [str(m) for m in get_messages(response.wsgi_request)] == [str(AuthPolicyError(None))]
    assert not DriveConnection.objects.exists() and not UserSocialAuth.objects.exists()
    assert not get_user_model().objects.exists()
    with pytest.raises(AuthPolicyError):
        require_logged_in_user(None, user=AnonymousUser())
    assert require_logged_in_user(None, user=make_user("kim")) is None


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


def test_without_an_oauth_client_the_page_says_drive_is_not_set_up(client, make_user, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = ""
    settings.GOOGLE_OAUTH_CLIENT_SECRET = settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = ""
    client.force_login(make_user("ned"))
    page = client.get("/drive/").content.decode()
    assert "Google Drive is not set up on this server" in page
    assert "GOOGLE_OAUTH_CLIENT_ID" in page and "GOOGLE_OAUTH_CLIENT_SECRET" in page
    assert "/login/google-oauth2/" not in page and "Connect Google Drive" not in page
    # The connect URL itself refuses too, instead of sending the browser to Google with no client id.
    response = client.post("/login/google-oauth2/")
    assert response.status_code == 302 and response["Location"] == "/drive/"
    assert "Google Drive is not set up on this server" in client.get("/drive/").content.decode()
