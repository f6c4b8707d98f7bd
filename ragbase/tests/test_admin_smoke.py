import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection


@pytest.mark.django_db
def test_database_is_real_postgres():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000


@pytest.mark.django_db
def test_admin_login_shows_the_apps_models(client):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "correct horse battery")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "correct horse battery"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Site administration" in html
    # Each model's own link (the app's heading, "Documents and chunks", names no model).
    for path, name in [("chunks/document", "Documents"), ("chunks/chunk", "Chunks"),
                       ("chunks/vectordeletion", "Vector deletions"), ("drive/driveconnection", "Drive connections")]:
        assert re.search(rf'<a href="/admin/{path}/"[^>]*>{name}</a>', html), name


@pytest.mark.django_db
def test_admin_refuses_a_wrong_password(client):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "correct horse battery")
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "nope"})
    assert "Please enter the correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_home_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
