"""Every page sends the strict Content-Security-Policy and holds nothing it would block: no inline
<script> or <style>, no style= or on*= attribute (admin and API docs included)."""
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse

from drive.tests.conftest import fake_google  # noqa: F401  (the fake Google fixture, for the Drive pages)

pytestmark = pytest.mark.reliability

POLICY = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
          "font-src": "'self'", "connect-src": "'self'", "object-src": "'none'", "base-uri": "'none'",
          "form-action": "'self'", "frame-ancestors": "'none'"}


def directives(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


class InlineCode(HTMLParser):
    """Collects what a strict policy blocks: inline scripts, <style> blocks, style= and on*= attributes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style" or (tag == "script" and "src" not in names):
            self.found.append(f"<{tag}>")
        self.found += [f"<{tag} {name}=>" for name in names if name == "style" or name.startswith("on")]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def assert_strict(response, url):
    assert response.status_code == 200, (url, response.status_code)
    policy = directives(response)
    assert {**policy, "form-action": "'self'"} == POLICY, (url, policy)  # form-action: see the Drive test
    assert inline_code(response.content.decode()) == [], url


@pytest.fixture
def drive_user(django_user_model, fake_google):
    """A user with a connected Drive holding one folder (so the folder picker lists it)."""
    from drive.models import DriveConnection

    fake_google.put_folder("F-1", "Projects")
    user = django_user_model.objects.create_user("pat")
    connection = DriveConnection(user=user, google_email="pat@gmail.example")
    connection.refresh_token = fake_google.grant("pat@gmail.example")
    connection.save()
    return user


def test_the_policy_is_the_documented_one(client):
    assert directives(client.get("/accounts/login/")) == POLICY


def test_user_pages_have_the_policy_and_no_inline_code(client, drive_user, django_user_model):
    for url in ["/accounts/login/", "/admin/login/"]:
        assert_strict(client.get(url), url)
    client.force_login(django_user_model.objects.create_user("newcomer"))
    assert_strict(client.get("/drive/"), "/drive/ (not connected)")
    assert_strict(client.get("/"), "/ (not connected)")
    client.force_login(drive_user)
    for url in ["/", "/documents/", "/search/", "/drive/", "/drive/folders/", "/api/docs/"]:
        assert_strict(client.get(url), url)
    assert "Disconnect" in client.get("/drive/").content.decode()  # its confirm() lives in forms.js


def test_the_drive_pages_let_the_connect_form_go_to_google(client, drive_user, settings):
    client.force_login(drive_user)
    google = settings.GOOGLE_AUTH_URI.rsplit("/", 1)[0]
    for url in ["/drive/", "/drive/folders/"]:
        assert directives(client.get(url))["form-action"] == f"'self' {google}"
    assert directives(client.get("/documents/"))["form-action"] == "'self'"


def test_every_admin_list_and_add_page_has_the_policy_and_no_inline_code(admin_client, admin_user, rf):
    request = rf.get("/admin/")
    request.user = admin_user
    urls = ["/admin/", "/admin/password_change/", reverse("search:admin_search")]
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:%s_%s_changelist" % info))
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:%s_%s_add" % info))
    assert len(urls) > 30
    for url in urls:
        assert_strict(admin_client.get(url), url)
