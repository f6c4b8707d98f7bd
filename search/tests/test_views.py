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
    assert html.count("<strong>Comets</strong>") == 1 and 'class="passages"' in html and "Asteroids" not in html
    assert "2 documents" in html and 'href="?q=comets&amp;top_k=1&amp;page=2"' in html
    second = client.get("/search/", {"q": "comets", "top_k": 1, "page": 2}).content.decode()
    assert "Asteroids" in second and "Comets</strong>" not in second and "Previous page" in second


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
