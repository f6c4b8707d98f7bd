import threading

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from chunks.vector_index import build_vector_index
from ragbase.testing import installed_index
from search.api.serializers import SearchRequestSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user):
    user = make_user("ann")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    client.user = user
    return client


def test_search_by_token_returns_paginated_results(api, add_document):
    for i in range(3):
        add_document(api.user, f"Volcano eruption report number {i}.", title=f"Volcano {i}")
    body = api.get("/api/search/", {"q": "volcano eruption", "page_size": 2}).json()
    assert body["group"] == "document" and body["count"] == 3 and len(body["results"]) == 2 and body["next_page"] == 2
    assert body["results"][0]["title"].startswith("Volcano") and "<mark>" in body["results"][0]["passage"]["snippet"]
    second = api.post("/api/search/", {"q": "volcano eruption", "page_size": 2, "page": 2}, format="json").json()
    assert len(second["results"]) == 1 and second["next_page"] is None
    assert {r["document_id"] for r in body["results"]}.isdisjoint(r["document_id"] for r in second["results"])


def test_a_document_is_one_result_with_its_more_passages_and_group_none_lists_chunks(api, add_document, settings):
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 8, 0
    add_document(api.user, "Tides rise twice a day. Tides follow the moon. Tides shape the coast.", title="Tides")
    add_document(api.user, "Rivers carry sand to the sea.", title="Rivers")
    grouped = api.get("/api/search/", {"q": "tides", "passages": 1}).json()
    assert [r["title"] for r in grouped["results"]] == ["Tides", "Rivers"] and grouped["count"] == 2
    tides = grouped["results"][0]
    assert len(tides["more_passages"]) == 1 and tides["passage"]["score"] >= tides["more_passages"][0]["score"]
    chunks = api.get("/api/search/", {"q": "tides", "group": "none", "top_k": 3, "page_size": 2}).json()
    assert chunks["group"] == "none" and chunks["count"] == 3 and chunks["next_page"] == 2
    assert [r["title"] for r in chunks["results"]] == ["Tides", "Tides"]
    assert chunks["results"][0]["score"] == tides["passage"]["score"]  # RRF ties may order equal chunks either way


def test_the_response_has_exactly_the_documented_fields(api, add_document):
    from search.api.serializers import (
        DocumentResultSerializer,
        DocumentSearchResponseSerializer,
        PassageSerializer,
        SearchHitSerializer,
        SearchResponseSerializer,
    )

    add_document(api.user, "Glacier melt measurements.", title="Glacier")
    body = api.get("/api/search/", {"q": "glacier"}).json()
    assert set(body) == set(DocumentSearchResponseSerializer().fields)
    assert body["results"] and set(body["results"][0]) == set(DocumentResultSerializer().fields)
    assert set(body["results"][0]["passage"]) == set(PassageSerializer().fields)
    body = api.get("/api/search/", {"q": "glacier", "group": "none"}).json()
    assert set(body) == set(SearchResponseSerializer().fields)
    assert body["results"] and set(body["results"][0]) == set(SearchHitSerializer().fields)


@pytest.mark.parametrize(
    "params, field",
    [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 1001}, "q"), ({"q": "a", "top_k": 0}, "top_k"),
     ({"q": "a", "top_k": 101}, "top_k"), ({"q": "a", "group": "chunk"}, "group"), ({"q": "a", "passages": 6}, "passages"), ({"q": "a", "mode": "magic"}, "mode"), ({"q": "a", "source": "fax"}, "source"),
     ({"q": "a", "document": str(2**63)}, "document"), ({"q": "a", "fusion": "rrf:0"}, "fusion"),
     ({"q": "a", "fusion": "rrf:60:1,-1"}, "fusion"), ({"q": "a", "fusion": "magic"}, "fusion")],
)
def test_bad_parameters_are_400_with_field_errors(api, vector_index, params, field):
    response = api.get("/api/search/", params)
    assert response.status_code == 400 and field in response.json()


def test_the_query_fields_are_copied_once_per_thread_and_never_shared(settings):
    mine, theirs = SearchRequestSerializer().fields, []
    thread = threading.Thread(target=lambda: theirs.append(SearchRequestSerializer().fields))
    thread.start()
    thread.join()
    assert SearchRequestSerializer().fields is mine and theirs[0] is not mine
    # A refused query leaves nothing in the shared fields for the thread's next one.
    assert not SearchRequestSerializer(data={"q": "", "top_k": 0}).is_valid()
    valid = SearchRequestSerializer(data={"q": "tides"})
    assert valid.is_valid() and valid.validated_data["top_k"] == settings.SEARCH_DEFAULT_TOP_K


def rrf_score(fusion, passage):
    """What RRF gives a passage of these leg ranks: 1 / (k - 1 + rank / weight) per leg it is in."""
    weights = fusion.weights or (1.0, 1.0)
    ranks = (passage["dense_rank"], passage["sparse_rank"])
    return sum(1 / (fusion.k - 1 + rank / weight) for rank, weight in zip(ranks, weights) if rank is not None)


@pytest.fixture
def sea_notes(api, add_document):
    texts = ["Tides rise twice a day.", "The moon pulls the tides.", "Sea level and storm surge.",
             "Harbour tide tables for sailors.", "Coastal erosion by waves.", "Lunar cycles and ocean water."]
    for i, text in enumerate(texts):
        add_document(api.user, text, title=f"Sea {i}")


@pytest.mark.parametrize("spelling", ["rrf:60", "rrf:3", "rrf:5:2,0.5", "rrf:5:0.5,2"])
def test_each_request_may_choose_its_rrf_fusion(api, sea_notes, spelling):
    from chunks.vector_index import Fusion

    fusion = Fusion.parse(spelling)
    for params in ({"group": "none", "top_k": 6}, {"group": "document", "passages": 0}):
        body = api.get("/api/search/", {"q": "tide moon ocean", "fusion": spelling, **params}).json()
        assert body["fusion"] == spelling
        passages = [r.get("passage", r) for r in body["results"]]
        assert len(passages) == 6 and all(p["score"] == pytest.approx(rrf_score(fusion, p)) for p in passages)


def test_dbsf_and_the_default_fusion_and_single_legs(api, sea_notes, settings):
    from chunks.vector_index import Fusion

    settings.SEARCH_FUSION = "rrf:7:1,0.5"
    default = api.get("/api/search/", {"q": "tide moon ocean", "group": "none"}).json()
    assert default["fusion"] == "rrf:7:1,0.5"
    assert all(r["score"] == pytest.approx(rrf_score(Fusion.parse("rrf:7:1,0.5"), r)) for r in default["results"])
    dbsf = api.post("/api/search/", {"q": "tide moon ocean", "fusion": "DBSF", "group": "none"}, format="json").json()
    assert dbsf["fusion"] == "dbsf" and {r["chunk_id"] for r in dbsf["results"]} == {r["chunk_id"] for r in default["results"]}
    # Normalised leg scores summed: up to about 1 a leg, far above any RRF score of these ranks.
    assert 0.5 < dbsf["results"][0]["score"] < 2.5
    dense = api.get("/api/search/", {"q": "tide moon ocean", "mode": "dense", "fusion": "dbsf"}).json()
    assert dense["fusion"] is None and dense["results"]


def test_a_bad_fusion_is_explained(api, vector_index):
    body = api.get("/api/search/", {"q": "tides", "fusion": "rrf:60:2"}).json()
    assert "two positive numbers" in body["fusion"][0] and "rrf:K:DENSE,SPARSE" in body["fusion"][0]


@pytest.fixture
def unreachable_store():
    """The server backend aimed at a closed loopback port: a real connection failure."""
    with installed_index(build_vector_index(url="http://127.0.0.1:9", collection="down", timeout=2)) as index:
        yield index


def test_unreachable_vector_store_is_503_not_500(api, unreachable_store):
    for response in (api.get("/api/search/", {"q": "anything"}), api.post("/api/search/", {"q": "x"}, format="json")):
        assert response.status_code == 503 and "unavailable" in response.json()["detail"]


def test_search_page_says_when_the_store_is_down(client, make_user, unreachable_store):
    client.force_login(make_user("bob"))
    response = client.get("/search/", {"q": "anything"})
    assert response.status_code == 200 and "temporarily unavailable" in response.content.decode()


def test_anonymous_requests_are_refused(client, vector_index):
    assert client.get("/api/search/", {"q": "x"}).status_code in (401, 403)


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and "/api/search/" in schema.json()["paths"]
    (fusion,) = [p for p in schema.json()["paths"]["/api/search/"]["get"]["parameters"] if p["name"] == "fusion"]
    assert fusion["schema"]["type"] == "string" and "rrf:K:DENSE,SPARSE" in fusion["description"]
    assert api.get("/api/docs/").status_code == 200
