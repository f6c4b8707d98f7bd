"""/metrics: access rule, outbox counts from Postgres, ragbase series present; JSON logging option."""
import json

import pytest
from prometheus_client import REGISTRY

from chunks.metrics import OUTBOX_PUSHED
from chunks.models import Chunk
from chunks.outbox.drain import drain
from chunks.services.ingestion import ingest_content
from drive.metrics import DRIVE_SYNC_ERRORS
from ragbase.testing import make_document, make_user, run_manage
from search.metrics import SEARCH_LATENCY

pytestmark = pytest.mark.django_db


def test_metrics_refused_without_token_from_elsewhere(client, settings):
    settings.METRICS_TOKEN = "t0ken"
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer t0ken").status_code == 200


def test_metrics_from_localhost_only_when_allowed(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    settings.METRICS_ALLOW_LOCALHOST = False
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_metrics_report_outbox_counts_and_ragbase_series(client):
    owner = make_user("m")
    document = make_document(owner)
    for ordinal in range(3):
        Chunk.objects.create(document=document, owner=owner, ordinal=ordinal, text="x")
    SEARCH_LATENCY.labels(mode="hybrid").observe(0.02)
    OUTBOX_PUSHED.inc(5)
    DRIVE_SYNC_ERRORS.inc()
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'ragbase_outbox_chunks{status="PENDING"} 3.0' in text
    assert 'ragbase_outbox_chunks{status="SYNCED"} 0.0' in text
    assert "ragbase_outbox_deletions_pending 0.0" in text
    for series in ("ragbase_search_latency_seconds_bucket", "ragbase_outbox_pushed_total",
                   "ragbase_drive_sync_errors_total", "django_http_requests_total_by_method_total"):
        assert series in text


def test_json_log_format(tmp_path):
    result = run_manage(tmp_path, "shell", "-c", "import logging; logging.getLogger('ragbase').warning('hello')",
                        LOG_FORMAT="json")
    line = [l for l in result.stderr.splitlines() if "hello" in l][0]
    record = json.loads(line)
    assert record["message"] == "hello" and record["level"] == "WARNING" and record["logger"] == "ragbase"


def test_drain_counts_pushed_points(vector_index, embedder):
    owner = make_user("d")
    before = REGISTRY.get_sample_value("ragbase_outbox_pushed_total") or 0
    ingest_content(owner=owner, source="upload", source_id="a", title="a", mime_type="text/plain",
                   content=b"Metrics count the points each drain pushes.")
    pushed = Chunk.objects.filter(owner=owner).count()
    drain(index=vector_index)
    assert pushed > 0
    assert REGISTRY.get_sample_value("ragbase_outbox_pushed_total") - before == pushed
