"""/healthz and /readyz against a healthy store, a broken one and an old outbox backlog."""
from datetime import timedelta

import pytest

from chunks.models import Chunk
from chunks.vector_index import IndexHealth
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from chunks.vector_index.qdrant_server import ServerVectorIndex
from ragbase.testing import installed_index, make_document, make_user

pytestmark = pytest.mark.django_db


class UnhealthyIndex(EdgeVectorIndex):
    def health(self):
        return IndexHealth(ok=False, backend="broken", detail="connection refused")


class RaisingIndex(EdgeVectorIndex):
    def health(self):
        raise RuntimeError("boom")


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ready_with_healthy_store(client, vector_index):
    vector_index.ensure_collection(dense_dim=384, model_id="test")
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["postgres"]["ok"] and body["checks"]["vector_store"]["ok"]
    assert body["checks"]["outbox"]["oldest_pending_age_seconds"] == 0.0
    assert isinstance(body["workers"], list)


@pytest.mark.parametrize("index_class", [UnhealthyIndex, RaisingIndex])
def test_readyz_503_with_broken_store(client, tmp_path, index_class):
    with installed_index(index_class(path=tmp_path / "q", collection="c")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["vector_store"]["ok"] is False


def test_readyz_503_when_collection_missing_on_server(client):
    # qdrant-client in memory stands in for a server whose collection was never created.
    with installed_index(ServerVectorIndex(location=":memory:", collection="absent")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "not created" in response.json()["checks"]["vector_store"]["detail"]


def test_readyz_503_when_outbox_backlog_is_old(client, vector_index, settings):
    vector_index.ensure_collection(dense_dim=384, model_id="test")
    settings.READY_MAX_OUTBOX_AGE_SECONDS = 60
    owner = make_user("u")
    document = make_document(owner)
    chunk = Chunk.objects.create(document=document, owner=owner, ordinal=0, text="hello")
    Chunk.objects.filter(pk=chunk.pk).update(created_at=chunk.created_at - timedelta(minutes=5))
    response = client.get("/readyz")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["oldest_pending_age_seconds"] >= 300


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_by_ip_when_allowed_hosts_names_only_the_public_host(client, settings, vector_index, path):
    # Docker's HEALTHCHECK asks 127.0.0.1, orchestrators and Prometheus the pod's IP: Host headers
    # a production ALLOWED_HOSTS does not list.
    vector_index.ensure_collection(dense_dim=384, model_id="test")
    settings.ALLOWED_HOSTS = ["ragbase.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = "scrape-secret"
    settings.METRICS_ALLOW_LOCALHOST = False  # the test client calls from 127.0.0.1
    headers = {"Authorization": "Bearer scrape-secret"} if path == "/metrics" else {}
    response = client.get(path, HTTP_HOST="10.0.3.7:8000", headers=headers)
    assert response.status_code == 200, response.content[:200]
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400  # everything else: still refused
    assert client.get("/metrics", HTTP_HOST="10.0.3.7:8000").status_code == 403  # token still needed
