import pytest


@pytest.fixture
def make_user(db, django_user_model):
    def make(name):
        return django_user_model.objects.create_user(name, password="pw-" + name, email=f"{name}@example.com")

    return make


@pytest.fixture
def make_connection(make_user):
    """A connected DriveConnection for a new user, holding the given refresh token (encrypted)."""
    from drive.models import DriveConnection

    def make(name, token=None, **fields):
        user = make_user(name)
        connection = DriveConnection(user=user, google_email=f"{name}@gmail.example", **fields)
        connection.refresh_token = token or f"1//refresh-{name}-secret"
        connection.save()
        return connection

    return make


@pytest.fixture
def fake_google(settings):
    """The fake Google on a loopback port, with every Google endpoint setting pointed at it."""
    from drive.tests.fake_google import FakeGoogle

    fake = FakeGoogle().start()
    settings.GOOGLE_OAUTH_CLIENT_ID = "test-client-id"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "test-client-secret"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "test-client-id"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "test-client-secret"
    settings.GOOGLE_AUTH_URI = fake.url + "/authorize"
    settings.GOOGLE_TOKEN_URI = fake.url + "/token"
    settings.GOOGLE_REVOKE_URI = fake.url + "/revoke"
    settings.GOOGLE_USERINFO_URI = fake.url + "/userinfo"
    settings.GOOGLE_DRIVE_API_ROOT = fake.url + "/drive/v3/"
    settings.DRIVE_MAX_RETRIES = 3
    settings.DRIVE_BACKOFF_BASE_SECONDS = 0.001
    yield fake
    fake.stop()


@pytest.fixture
def recorded_sleeps(monkeypatch):
    from drive.services import google_api

    delays = []
    monkeypatch.setattr(google_api, "sleep", delays.append)
    return delays
