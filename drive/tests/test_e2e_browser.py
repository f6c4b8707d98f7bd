"""End to end in a real browser: log in → connect Google Drive through the OAuth
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
    from chunks.outbox.drain import drain
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
    assert first.locator(".result-title a").inner_text() == "Harbour log"
    assert SENTENCE in first.locator("p.snippet").inner_text()
    assert first.locator("small.where").inner_text().startswith("drive")
    assert first.locator("small.why").first.inner_text().startswith("matched words: ")


STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'"


def test_sync_progress_updates_without_a_reload_under_a_strict_csp(
    live_server, fake_google, embedder, make_connection, chromium_page
):
    """The page's progress numbers follow the database while a sync runs, through the static
    script and the JSON endpoint, with a Content-Security-Policy that forbids inline scripts."""
    from drive.services import listing, processing, runs

    connection = off_the_loop(make_connection, "olga", token=fake_google.grant("olga@gmail.example"))
    off_the_loop(lambda: (connection.user.set_password("correct horse battery"), connection.user.save()))
    for n in range(7):
        fake_google.put_file(FakeFile(f"n{n}", f"Note {n}", "text/plain", f"Note {n} about tides.".encode()))
    page = chromium_page
    blocked = []
    # The page shell's inline styles are refused as well; what matters here: no script or fetch is.
    page.on("console", lambda message: blocked.append(message.text)
            if "script-src" in message.text or "connect-src" in message.text else None)

    def with_strict_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()
    page.route(live_server.url + "/drive/", with_strict_csp)
    page.goto(live_server.url + "/drive/")
    found = page.locator("[data-field=found]")
    assert found.inner_text() == "0" and page.locator("[data-field=last_sync_text]").inner_text() == "never"
    page.evaluate("window.notReloaded = true")

    run = off_the_loop(lambda: runs.start_or_join(connection)[0])
    off_the_loop(listing.list_slice, run_id=run.pk)  # the listing finds the files (pages of 2)
    expect = sync_api.expect
    expect(found).to_have_text("7")
    assert page.locator("[data-field=phase_label]").inner_text() in ("Listing files", "Processing files")
    off_the_loop(processing.process_batches, run_id=run.pk)
    expect(page.locator("[data-field=done]")).to_have_text("7")
    expect(page.locator("[data-field=phase_label]")).to_have_text("Up to date")
    assert page.locator("[data-field=chunks_waiting]").inner_text() == "7"
    assert page.locator("[data-field=last_sync_text]").inner_text() != "never"
    assert page.evaluate("window.notReloaded") is True  # updated in place, not by reloading
    assert blocked == []
    html = page.content()
    assert '<script src="/static/drive/progress.js" defer=""></script>' in html
    assert "<script>" not in html and "onclick" not in html
