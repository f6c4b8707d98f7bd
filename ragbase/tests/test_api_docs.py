"""Swagger UI at /api/docs/ runs only code served by ragbase itself: the pinned sidecar assets."""
import re
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"


@pytest.fixture
def static_files_served(settings):
    """whitenoise serves from the apps' static folders (as collectstatic's output would be served)."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.reliability
def test_api_docs_reference_no_external_url_and_their_assets_are_served(client, django_user_model,
                                                                        static_files_served):
    client.force_login(django_user_model.objects.create_user("docs"))
    page = client.get("/api/docs/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(urls) == 6  # favicon, 2 stylesheets, 3 scripts
    assert not [url for url in urls if urlparse(url).scheme or urlparse(url).netloc], urls
    assert "//" not in re.sub(r"<!DOCTYPE[^>]*>", "", page).replace("://", "")  # no protocol-relative URL
    assert "<style" not in page and not re.search(r"<script>|<script [^>]*>[^<]", page)
    for url in urls:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200 and len(body(response)) > 0, url
    script = client.get(re.search(r'src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&"))
    assert script["Content-Type"].startswith("application/javascript")
    text = body(script).decode()
    assert "SwaggerUIBundle" in text and '"validatorUrl": null' in text and not re.search(r"https?://", text)
    bundle = client.get(next(url for url in urls if url.endswith("swagger-ui-bundle.js")))
    assert b"swagger" in body(bundle)[:2000].lower()
    assert f"drf-spectacular-sidecar=={version('drf-spectacular-sidecar')}" in REQUIREMENTS.read_text()
