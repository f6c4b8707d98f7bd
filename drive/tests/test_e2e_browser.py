"""End to end in a real browser (issue 6): log in → connect Google Drive through the OAuth
redirect (fake Google) → Sync now → the search page finds a sentence from a Drive file.

Headless Debian Chromium driven by Playwright against pytest-django's live_server. Skips when
playwright or /usr/bin/chromium is missing (`apt-get install chromium`)."""
import threading
from pathlib import Path

import pytest

from drive.tests.fake_google import FakeFile

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not importable (pip install playwright)",
    exc_type=ImportError,
)

CHROMIUM = Path("/usr/bin/chromium")
SENTENCE = "The lighthouse keeper counted seventeen gulls on the northern breakwater at dawn."

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


def off_the_loop(function, *args, **kwargs):
    """Run ORM code in a fresh thread: Playwright's sync API keeps an asyncio loop running in this
    one, where Django refuses database calls (SynchronousOnlyOperation)."""
    from django.db import connections

    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def chromium_page(live_server):
    """A page in headless Chromium, closed before live_server's teardown flushes the database."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def test_login_connect_drive_sync_and_search_in_a_browser(
    live_server, fake_google, vector_index, embedder, django_user_model, chromium_page
):
    from chunks.outbox import drain
    from drive.models import DriveConnection

    off_the_loop(django_user_model.objects.create_user, "nora", password="correct horse battery")
    fake_google.account_email = "nora@gmail.example"
    fake_google.put_file(FakeFile("doc1", "Harbour log", "application/vnd.google-apps.document",
                                  f"{SENTENCE}\nThe tide tables were checked twice.".encode()))
    fake_google.put_file(FakeFile("txt1", "Shopping list", "text/plain", b"Apples, bread and coffee beans."))
    page = chromium_page

    # Log in through the real login page.
    page.goto(live_server.url + "/drive/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "nora")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button:has-text('Log in')")
    page.wait_for_url(live_server.url + "/drive/")

    # Connect: the browser goes to the fake Google's /authorize and comes back to the callback.
    page.click("button:has-text('Connect Google Drive')")
    page.wait_for_url(live_server.url + "/drive/")
    assert any(r.startswith("GET /authorize?") for r in fake_google.requests)
    assert any(r.startswith("POST /token") for r in fake_google.requests)
    assert page.locator("th:has-text('Account') + td").inner_text() == "nora@gmail.example"
    assert page.locator("th:has-text('Status') + td").inner_text().strip() == "Connected"

    # Sync now (django-q2 runs tasks synchronously in tests), then the outbox drain that
    # `manage.py serve`'s owner thread would run.
    page.click("button:has-text('Sync now')")
    page.wait_for_url(live_server.url + "/drive/")
    assert page.locator("th:has-text('Files indexed') + td").inner_text() == "2"
    assert off_the_loop(lambda: DriveConnection.objects.get().files_indexed) == 2
    assert off_the_loop(drain).synced >= 2

    # Search in the browser.
    page.click("nav a:has-text('Search')")
    page.fill("input[name=q]", SENTENCE)
    page.click("button:has-text('Search')")
    page.wait_for_url("**/search/?q=*")
    results = page.locator("ol.results").inner_text()
    assert SENTENCE in results, results
    first = page.locator("ol.results > li").first
    assert first.locator("strong").inner_text() == "Harbour log"
    assert SENTENCE in first.locator("p.snippet").inner_text()
    assert first.locator("small").inner_text().startswith("drive")
