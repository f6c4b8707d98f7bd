"""In a real browser (headless Chromium), the main pages, the admin and the API docs report no
Content-Security-Policy violation, and the pages that need scripts still work under the policy:
Swagger UI renders the API, the admin's widgets load, a confirm() guards Disconnect."""
import pytest

from drive.tests.conftest import fake_google  # noqa: F401  (the fake Google fixture, for the Drive page)
from drive.tests.test_e2e_browser import CHROMIUM, chromium_page, off_the_loop  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
# Runs before any page script (Playwright injects it outside the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
                              + `(${event.sourceFile}:${event.lineNumber})`);
});
"""


def test_no_csp_violation_on_the_main_pages_in_a_browser(live_server, fake_google, django_user_model, chromium_page):
    from drive.models import DriveConnection

    boss = off_the_loop(django_user_model.objects.create_superuser, "boss", "boss@example.com", "correct horse battery")
    page, violations = chromium_page, {}
    page.add_init_script(RECORD_VIOLATIONS)

    def visit(path):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        violations[path] = page.evaluate("window.__cspViolations")

    visit("/accounts/login/")
    visit("/admin/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    for path in ["/", "/documents/", "/search/", "/drive/", "/admin/", "/admin/chunks/chunk/",
                 f"/admin/auth/user/{boss.pk}/change/", "/admin/knox/authtoken/add/"]:
        visit(path)
    assert page.locator(".datetimeshortcuts").count() >= 1  # the admin's date-time widget script ran

    visit("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert "/api/search/" in page.locator(".swagger-ui").inner_text()
    violations["/api/docs/ (rendered)"] = page.evaluate("window.__cspViolations")

    connection = DriveConnection(user=boss, google_email="boss@gmail.example")
    connection.refresh_token = fake_google.grant("boss@gmail.example")
    off_the_loop(connection.save)
    fake_google.put_folder("F-1", "Projects")
    fake_google.put_folder("F-2", "Reports", parents=["F-1"])
    visit("/drive/folders/")
    assert page.locator("ul.folders li").count() == 2
    visit("/drive/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('Disconnect')")
    assert asked == ["Disconnect and remove all Drive documents?"]  # dismissed: nothing happens
    assert off_the_loop(DriveConnection.objects.filter(user=boss).exists)
    violations["/drive/ (disconnect)"] = page.evaluate("window.__cspViolations")

    assert {path: found for path, found in violations.items() if found} == {}
