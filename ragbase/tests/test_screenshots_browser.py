"""The three main pages with real documents, in headless Chromium: upload this repository's own docs
through the documents page, let them be indexed and pushed (SYNCED), then the home page's counts,
the documents page and a search whose results are grouped by document with their heading paths
and why they matched; the search page's keyboard path (skip links, visible focus, a result reached
with Tab).

Normal runs upload two of the docs and write nothing. The README's screenshots are made by

    RAGBASE_SCREENSHOTS=docs/screenshots python3 run.py test ragbase/tests/test_screenshots_browser.py

which uploads the README and every docs/*.md and saves home.png, documents.png and search.png there."""
import os
from pathlib import Path

import pytest

from drive.tests.test_e2e_browser import CHROMIUM, chromium_page, off_the_loop  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = os.environ.get("RAGBASE_SCREENSHOTS", "")
QUERY = "what happens to chunks when the vector store is down"
VIEWPORT = {"width": 1200, "height": 800}


def documents_to_upload() -> list[Path]:
    if SCREENSHOTS:
        return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [ROOT / "docs" / "outbox.md", ROOT / "docs" / "search.md"]


def save(page, name: str) -> None:
    """The viewport as docs/screenshots/<name>.png (with RAGBASE_SCREENSHOTS), in 256 colours."""
    if not SCREENSHOTS:
        return
    folder = (ROOT / SCREENSHOTS) if not Path(SCREENSHOTS).is_absolute() else Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as shot:
        shot.convert("RGB").quantize(colors=256).save(path, optimize=True)


def test_the_pages_with_real_documents(live_server, vector_index, embedder, django_user_model, chromium_page, tmp_path,
                                       settings):
    from chunks.models import Chunk, SyncStatus
    from chunks.outbox.drain import drain

    settings.MEDIA_ROOT = tmp_path / "media"
    off_the_loop(django_user_model.objects.create_user, "nora", password="correct horse battery")
    page = chromium_page
    page.set_viewport_size(VIEWPORT)
    page.set_default_timeout(120_000)  # the upload's ingestion runs inline (Q_SYNC): embedding takes a while
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "nora")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button:has-text('Log in')")
    page.wait_for_url(live_server.url + "/")

    # Upload through the documents page, with one file that cannot be read (a "PDF" that is not).
    broken = tmp_path / "scanned-contract.pdf"
    broken.write_bytes(b"this is not a PDF")
    uploads = documents_to_upload()
    page.goto(live_server.url + "/documents/")
    page.set_input_files("input[name=files]", [str(path) for path in [*uploads, broken]])
    page.click("button:has-text('Upload')")
    page.wait_for_url(live_server.url + "/documents/")
    assert off_the_loop(drain).synced > 0  # what `serve`'s drain thread does
    statuses = off_the_loop(lambda: set(Chunk.objects.values_list("sync_status", flat=True)))
    assert statuses == {SyncStatus.SYNCED}

    page.goto(live_server.url + "/")
    assert page.locator("[data-count=documents]").inner_text() == str(len(uploads) + 1)
    assert page.locator("[data-count=chunks_waiting]").inner_text() == "0"
    assert page.locator("[data-count=failed_documents]").inner_text() == "1"
    save(page, "home")

    page.goto(live_server.url + "/documents/")
    table = page.locator("table").inner_text()
    assert all(path.name in table for path in uploads) and "scanned-contract.pdf" in table
    assert page.locator("button:has-text('Re-ingest all 1 failed')").count() == 1
    save(page, "documents")

    page.goto(live_server.url + "/search/")
    page.fill("input[name=q]", QUERY)
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search/?q=*")
    results = page.locator("ol.results > li")
    titles = [results.nth(i).locator(".result-title").inner_text() for i in range(results.count())]
    documents = [title.split(" › ")[0] for title in titles]
    assert documents[0] == "outbox.md" and len(set(documents)) == len(documents) > 1  # one entry per document
    assert any(" › " in title for title in titles)  # where in the document: its heading path
    assert page.locator("#results-summary").inner_text().startswith(f"{len(titles)} document")
    assert "matched words: " in results.first.locator("small.why").first.inner_text()
    save(page, "search")

    # The keyboard path: skip links first, a visible focus ring, then straight to the results.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to results"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('ol.results > li')")
