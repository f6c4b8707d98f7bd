"""API tokens are stored as digests only, expire, are revoked per token or per user, and are shown
once: in the command's output or on the admin page that answers the creation form."""
import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

TOKEN = re.compile(r"ragbase_[0-9a-f]{64}")


def create_token(username, *args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", username, *args, stdout=out, stderr=err)
    assert "shown only now" in err.getvalue()
    return out.getvalue().strip()


def status_with(token) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get("/api/documents/").status_code


def stored_token_rows() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(string_agg(row_to_json(t)::text, ' '), '') FROM knox_authtoken t")
        return cursor.fetchone()[0]


@pytest.mark.reliability
def test_a_token_is_stored_only_as_a_digest_expires_and_is_revoked(django_user_model):
    django_user_model.objects.create_user("ann"), django_user_model.objects.create_user("bob")
    first, second, bobs = create_token("ann"), create_token("ann", "--days", "7"), create_token("bob")
    assert TOKEN.fullmatch(first) and len({first, second, bobs}) == 3
    assert status_with(first) == status_with(second) == status_with(bobs) == 200
    rows = stored_token_rows()
    assert hashlib.sha512(first.encode()).hexdigest() in rows
    assert not [token for token in (first, second, bobs) if token in rows or token[15:40] in rows]
    expiries = dict(AuthToken.objects.values_list("token_key", "expiry"))
    assert timedelta(days=89) < expiries[first[:15]] - timezone.now() <= timedelta(days=90)
    assert expiries[second[:15]] - timezone.now() <= timedelta(days=7)

    AuthToken.objects.filter(token_key=second[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    assert status_with(second) == 401
    call_command("revoke_api_tokens", "ann", "--token", first[:15], stdout=io.StringIO())
    assert status_with(first) == 401
    create_token("ann")
    call_command("revoke_api_tokens", "ann", stdout=io.StringIO())
    assert not AuthToken.objects.filter(user__username="ann").exists()
    assert status_with(bobs) == 200  # revoking is per user
    assert status_with("ragbase_" + "0" * 64) == status_with("not-a-token") == 401


@pytest.mark.reliability
def test_the_admin_shows_a_new_token_once_and_never_stores_it(admin_client, django_user_model):
    cat = django_user_model.objects.create_user("cat")
    response = admin_client.post("/admin/knox/authtoken/add/",
                                 {"user": cat.pk, "expiry_0": "", "expiry_1": ""})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    token = TOKEN.search(page).group()
    assert "shown only on this page" in page and status_with(token) == 200
    stored = AuthToken.objects.get(user=cat)
    assert stored.expiry is not None and stored.token_key == token[:15]
    later_pages = [admin_client.get("/admin/knox/authtoken/").content.decode(),
                   admin_client.get(f"/admin/knox/authtoken/{stored.pk}/change/").content.decode(),
                   admin_client.get("/admin/").content.decode()]
    assert stored.token_key in later_pages[0]
    assert not [text for text in later_pages if token in text]
    assert token not in str(admin_client.session.items()) and token not in str(response.cookies)
    assert token not in stored_token_rows()
    admin_client.post("/admin/knox/authtoken/", {"action": "revoke_all_tokens_of_these_users",
                                                 "_selected_action": [stored.pk]})
    assert status_with(token) == 401


@pytest.mark.django_db(transaction=True)
def test_upgrading_drops_the_plaintext_authtoken_table():
    """An installation that used DRF's authtoken loses the table of plaintext keys on migrate."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id int)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('0123456789abcdef0123456789abcdef01234567', now(), 1)")
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', now())")
    executor = MigrationExecutor(connection)
    executor.migrate([("ragbase", None)])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token'), count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone() == (None, 0)


def test_an_api_request_reads_only_the_presented_token_and_expired_ones_go_with_the_next_token(django_user_model):
    from django.test.utils import CaptureQueriesContext

    django_user_model.objects.create_user("cat")
    live, expired = create_token("cat"), create_token("cat")
    AuthToken.objects.filter(token_key=expired[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    with CaptureQueriesContext(connection) as queries:
        assert status_with(live) == 200
    assert len([q for q in queries.captured_queries if "knox_authtoken" in q["sql"]]) == 1
    assert AuthToken.objects.filter(token_key=expired[:15]).exists()  # not swept by someone else's request
    create_token("cat")
    assert not AuthToken.objects.filter(token_key=expired[:15]).exists()
    assert AuthToken.objects.filter(user__username="cat").count() == 2


@pytest.mark.reliability
def test_a_token_is_refused_with_a_wrong_secret_or_for_an_inactive_user_and_names_its_user(django_user_model):
    from django.test.utils import CaptureQueriesContext

    dan = django_user_model.objects.create_user("dan")
    token = create_token("dan")
    forged = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]  # the public part, another secret
    assert status_with(forged) == 401
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/documents/").status_code == 200
    # The user is read with the token, in the same statement.
    assert [q["sql"] for q in queries.captured_queries if "auth_user" in q["sql"]] == [
        q["sql"] for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    dan.is_active = False
    dan.save()
    assert status_with(token) == 401
