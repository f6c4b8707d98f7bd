"""Sessions are Django's database sessions, read by one SQL statement: a logged-in session
authenticates pages and the API, an expired or deleted one does not, and logging out ends it."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


@pytest.fixture
def logged_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("eve"))
    return client


@pytest.mark.reliability
def test_a_session_authenticates_until_it_expires_or_ends(logged_in):
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get("/api/documents/").status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(reads) == 1 and reads[0].startswith("SELECT session_data, expire_date")
    assert logged_in.get("/documents/").status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert logged_in.get("/api/documents/").status_code in (401, 403)
    assert logged_in.get("/documents/").status_code == 302  # to the login page


@pytest.mark.reliability
def test_logging_out_deletes_the_session(logged_in):
    assert logged_in.get("/api/documents/").status_code == 200
    logged_in.post("/accounts/logout/")
    assert not Session.objects.exists()
    assert logged_in.get("/api/documents/").status_code in (401, 403)
