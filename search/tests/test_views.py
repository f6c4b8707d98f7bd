from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db


def test_search_page_renders_results_without_javascript(client, make_user, add_document):
    ann = make_user("ann")
    add_document(ann, "Glaciers retreat as the climate warms.", title="Glaciers")
    client.force_login(ann)
    html = client.get("/search/", {"q": "glaciers"}).content.decode()
    assert "Glaciers" in html and "<mark>Glaciers</mark>" in html and "<form" in html
    assert "matched words: glaciers · meaning: rank 1 · keywords: rank 1" in html


def test_search_page_lists_each_document_once_with_its_passages_and_pages(client, make_user, add_document, settings):
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 8, 0
    ann = make_user("ann")
    add_document(ann, "Comets have icy cores. Comets grow long tails. Comets orbit the sun.", title="Comets")
    add_document(ann, "Asteroids are rocky bodies.", title="Asteroids")
    client.force_login(ann)
    html = client.get("/search/", {"q": "comets", "top_k": 1}).content.decode()
    assert html.count('class="result-title"') == 1 and 'class="passages"' in html and "Asteroids" not in html
    assert "2 documents" in html and 'href="?q=comets&amp;top_k=1&amp;page=2"' in html
    second = client.get("/search/", {"q": "comets", "top_k": 1, "page": 2}).content.decode()
    assert "Asteroids" in second and ">Comets<" not in second and "Previous page" in second


def test_search_page_filters_are_visible_labelled_and_narrow_the_summary(client, make_user, add_document):
    ann = make_user("ann")
    add_document(ann, "Owls hunt voles at night.", title="Owls in Drive", source="drive", source_id="o1",
                 url="https://drive.google.com/file/d/o1/view")
    add_document(ann, "# Owls\nOwls nest in old barns.", title="owls.md", mime_type="text/markdown")
    add_document(ann, "Owls are quiet fliers.", title="Owl notes", modified_at=datetime(2025, 1, 1, tzinfo=UTC))
    add_document(ann, "Owls of the north.", title="Pending owls", drain_now=False)
    client.force_login(ann)
    empty = client.get("/search/").content.decode()
    assert "<details" not in empty and "<legend>Filters</legend>" in empty  # shown before any search
    for field, label in [("q", "Search for"), ("source", "Source"), ("type", "Type"),
                         ("modified_after", "Modified after"), ("mode", "Match by"), ("top_k", "Results per page")]:
        assert f'<label for="id_{field}">{label}:</label>' in empty
    assert '<a class="skip-link" href="#main">' in empty and '<main id="main"' in empty

    every = client.get("/search/", {"q": "owls"}).content.decode()
    assert '<strong>3 documents</strong> for “owls” (hybrid' in every and 'role="status"' in every
    assert "1 chunk of your documents is still being indexed" in every
    assert '<a class="skip-link" href="#results">Skip to results</a>' in every and '<section id="results"' in every
    assert every.count('tabindex="0"') == 2  # the uploads have no link to reach: the result itself takes focus

    drive = client.get("/search/", {"q": "owls", "source": "drive"}).content.decode()
    assert "<strong>1 document</strong> for “owls” · Google Drive (" in drive and "Owls in Drive" in drive
    markdown = client.get("/search/", {"q": "owls", "type": "markdown"}).content.decode()
    assert "<strong>1 document</strong> for “owls” · Markdown (" in markdown and "owls.md" in markdown
    assert 'value="markdown" selected' in markdown
    recent = client.get("/search/", {"q": "owls", "modified_after": "2024-06-01"}).content.decode()
    assert "<strong>1 document</strong> for “owls” · modified after 2024-06-01 (" in recent and "Owl notes" in recent


def test_search_page_requires_login(client):
    assert client.get("/search/", {"q": "x"}).status_code == 302


def test_staff_can_search_as_a_user(client, make_user, add_document, django_user_model):
    ann = make_user("ann")
    add_document(ann, "Meteor showers peak in August.", title="Meteors")
    staff = django_user_model.objects.create_superuser("boss", "b@example.com", "pw")
    client.force_login(staff)
    assert "/admin-tools/search-as-user/" in client.get("/admin/").content.decode()  # linked from the admin index
    html = client.get("/admin-tools/search-as-user/", {"user": ann.pk, "q": "meteor"}).content.decode()
    assert "Meteors" in html
    client.force_login(ann)
    assert client.get("/admin-tools/search-as-user/", {"user": ann.pk, "q": "meteor"}).status_code == 302
