"""Isolation between users and refusal of anonymous and cross-site requests, on real Postgres and the real engine."""
import random

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from chunks.models import Chunk
from chunks.outbox.drain import drain

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

SHARED_WORDS = (
    "invoice budget contract meeting report project deadline client server backup network "
    "policy holiday travel expense salary review design launch garden river mountain coffee"
).split()


@pytest.fixture
def five_users(make_user, add_document):
    """5 users whose documents share most of their words (plus a few words of their own)."""
    rng = random.Random(7)
    users = []
    for n in range(5):
        user = make_user(f"tenant{n}")
        for d in range(6):
            words = rng.sample(SHARED_WORDS, 8) + [f"private{n}word{d}"]
            add_document(user, " ".join(words) + ".", title=f"u{n}-d{d}", drain_now=False)
        users.append(user)
    assert drain().synced == Chunk.objects.count() == 30
    return users


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return client


@pytest.mark.slow
def test_1000_random_api_queries_never_return_another_users_chunks(five_users, unthrottled):
    rng = random.Random(1000)
    clients = [(user, _token_client(user)) for user in five_users]
    owner_of_chunk = dict(Chunk.objects.values_list("pk", "owner_id"))
    own_results = 0
    for _ in range(1000):
        user, client = rng.choice(clients)
        # Shared words, words private to another user, and nonsense: every leg gets exercised.
        words = rng.sample(SHARED_WORDS + [f"private{rng.randrange(5)}word{rng.randrange(6)}", "zzqx"], rng.randint(1, 4))
        response = client.get(
            "/api/search/",
            {"q": " ".join(words), "mode": rng.choice(["hybrid", "dense", "sparse"]), "top_k": rng.choice([5, 30, 100]),
             "page_size": 100, "group": rng.choice(["document", "none"]), "passages": 5},
        )
        assert response.status_code == 200, response.content
        body = response.json()
        for hit in body["results"] if body["group"] == "none" else _passages_of(body["results"]):
            assert owner_of_chunk[hit["chunk_id"]] == user.pk, f"{user} got {hit['title']}"
            assert hit["title"].startswith(f"u{five_users.index(user)}-")
            own_results += 1
    # The queries really did find things (a test that returns nothing proves nothing).
    assert own_results > 3000


def _api_paths():
    """Every API route the project registers (from its own URL patterns), ids filled with 1."""
    from django.urls import get_resolver

    paths = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                paths.add("/" + route.replace("$", "").replace("(?P<pk>[^/.]+)", "1").replace("<int:pk>", "1"))

    walk(get_resolver().url_patterns)
    return sorted(p for p in paths if "<" not in p and "(?P" not in p and "\\." not in p)


def _passages_of(documents):
    """Grouped results as chunk hits: each passage with its document's title."""
    return [{**passage, "title": d["title"]} for d in documents for passage in [d["passage"], *d["more_passages"]]]


def test_api_endpoints_refuse_anonymous_access(client, vector_index):
    paths = _api_paths()
    assert {"/api/search/", "/api/schema/", "/api/documents/", "/api/documents/1/"} <= set(paths)
    for path in paths:
        if path.startswith("/api/docs/"):
            continue  # the Swagger UI page is static; the schema it loads is refused below
        for method in (client.get, client.post):
            status = method(path, {"q": "invoice"}).status_code
            assert status in (401, 403, 405), f"{method.__name__.upper()} {path} → {status} for anonymous"


def test_page_forms_and_session_api_calls_are_csrf_protected(make_user, add_document, unthrottled):
    ann = make_user("ann")
    document = add_document(ann, "Budget meeting notes.", title="Notes")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ann)

    # Without the token every state-changing form is refused and changes nothing.
    assert browser.post("/documents/delete/", {"documents": [document.pk]}).status_code == 403
    assert browser.post("/documents/actions/", {"action": "reingest_all"}).status_code == 403
    assert browser.post("/documents/", {"title": "x"}).status_code == 403
    assert browser.post("/accounts/logout/").status_code == 403
    assert browser.post("/api/search/", {"q": "budget"}).status_code == 403  # session auth → CSRF applies
    assert browser.get("/search/", {"q": "budget"}).status_code == 200  # a GET form changes nothing
    assert document.chunks.exists()

    # With the token the page hands out, the same form works.
    page = browser.get("/documents/")
    token = page.context["csrf_token"]
    assert browser.post("/documents/delete/", {"documents": [document.pk], "csrfmiddlewaretoken": str(token)}).status_code == 302
    assert not Chunk.objects.filter(document_id=document.pk).exists()


def test_login_form_is_csrf_protected(make_user):
    make_user("ann")
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/accounts/login/", {"username": "ann", "password": "pw-ann"}).status_code == 403
    assert "_auth_user_id" not in browser.session
