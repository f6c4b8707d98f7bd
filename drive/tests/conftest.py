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
