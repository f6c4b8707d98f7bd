"""Every login form locks out after AXES_FAILURE_LIMIT failures, with a page that says why and for
how long; the events are in the admin; API tokens and other users are not affected."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from ragbase.client_ip import client_ip

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def attempt(client, url, password, username="boss"):
    return client.post(url, {"username": username, "password": password})


@pytest.mark.parametrize("url", ["/admin/login/", "/accounts/login/"])
def test_a_login_form_locks_out_after_the_failure_limit(client, boss, url, settings):
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 900
    for _ in range(4):
        response = attempt(client, url, "wrong")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    locked = attempt(client, url, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page and "After 5 failed logins" in page and "15 minutes" in page
    # Locked means locked: the right password is refused too, from another address as well.
    assert attempt(client, url, PASSWORD).status_code == 429
    assert attempt(Client(REMOTE_ADDR="203.0.113.9"), url, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_events_are_in_the_admin_and_api_tokens_still_work(client, boss, django_user_model):
    for _ in range(5):
        attempt(client, "/admin/login/", "wrong-Pa55word")
    assert "wrong-Pa55word" not in str(list(AccessAttempt.objects.values()))  # passwords are not recorded
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=boss)[1]}")
    assert api.get("/api/documents/").status_code == 200
    admin = Client(REMOTE_ADDR="198.51.100.7")
    admin.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    page = admin.get("/admin/axes/accessattempt/").content.decode()
    assert "boss" in page and "127.0.0.1" in page
    # Another user at another address logs in normally.
    django_user_model.objects.create_user("eve", password=PASSWORD)
    other = Client(REMOTE_ADDR="198.51.100.8")
    assert attempt(other, "/accounts/login/", PASSWORD, username="eve").status_code == 302


def test_the_cool_off_ends_the_lockout(client, boss):
    for _ in range(5):
        attempt(client, "/accounts/login/", "wrong")
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, "/accounts/login/", PASSWORD).status_code == 302


def test_behind_trusted_proxies_the_client_address_is_the_one_they_saw(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5", REMOTE_ADDR="172.18.0.2")
    assert client_ip(request) == "172.18.0.2"  # no trusted proxy: the header is the client's own words
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # the proxy's entry, not the spoofable one on the left
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "172.18.0.2"  # fewer entries than proxies: not from the proxies
