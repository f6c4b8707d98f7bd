"""Prometheus metrics: ragbase's own series and the /metrics endpoint (django-prometheus for requests).

Other parts record into these by name:
  SEARCH_LATENCY.observe(seconds)          ragbase_search_latency_seconds (label mode)
  OUTBOX_PUSHED.inc(n)                     ragbase_outbox_pushed_total (points upserted by drains)
  OUTBOX_DELETED.inc(n)                    ragbase_outbox_deleted_total (tombstones applied)
  OUTBOX_DRAIN_ERRORS.inc()                ragbase_outbox_drain_errors_total
Outbox counts per status (ragbase_outbox_chunks{status}, ragbase_outbox_deletions_pending) are read
from Postgres at scrape time, so every replica reports the same truth. Drive's series (sync errors,
the sync backlog) are defined in drive.metrics; this module registers its collector.
"""
import ipaddress

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import REGISTRY, CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from drive.metrics import DriveSyncCollector

SEARCH_LATENCY = Histogram(
    "ragbase_search_latency_seconds",
    "Search service latency (embedding the query + vector store + reading rows).",
    ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUSHED = Counter("ragbase_outbox_pushed", "Chunk points upserted to the vector store by drains.")
OUTBOX_DELETED = Counter("ragbase_outbox_deleted", "Vector deletions (tombstones) applied by drains.")
OUTBOX_DRAIN_ERRORS = Counter("ragbase_outbox_drain_errors", "Drain batches that failed against the store.")


class OutboxCollector:
    """Outbox counts per status, queried at scrape time."""

    def collect(self):
        from chunks.models import Chunk, VectorDeletion

        chunks = GaugeMetricFamily("ragbase_outbox_chunks", "Chunks by outbox sync status.", labels=["status"])
        deletions = GaugeMetricFamily("ragbase_outbox_deletions_pending", "Vector deletions not yet applied.")
        try:
            counts = dict(Chunk.objects.values_list("sync_status").annotate(n=Count("id")).order_by())
            pending_deletions = VectorDeletion.objects.filter(failed=False).count()
        except Exception:
            return  # Postgres down: /readyz says so; the scrape still returns the other series.
        for status in ("PENDING", "SYNCED", "FAILED"):
            chunks.add_metric([status], counts.get(status, 0))
        deletions.add_metric([], pending_deletions)
        yield chunks
        yield deletions


REGISTRY.register(OutboxCollector())
REGISTRY.register(DriveSyncCollector())


def _is_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def metrics_view(request):
    """Allowed with `Authorization: Bearer <METRICS_TOKEN>`, or from localhost when METRICS_ALLOW_LOCALHOST."""
    token = settings.METRICS_TOKEN
    authorised = bool(token) and request.headers.get("Authorization", "") == f"Bearer {token}"
    if not authorised and not (settings.METRICS_ALLOW_LOCALHOST and _is_local(request.META.get("REMOTE_ADDR", ""))):
        return HttpResponseForbidden("metrics need a bearer token\n")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
