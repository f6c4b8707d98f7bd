"""The /metrics endpoint, for Prometheus: the series of every process of the server when they
share a folder (ragbase.process_metrics: serve, gunicorn), else those of this process. The apps
define their own (chunks.metrics: the outbox; search.metrics: search latency; drive.metrics: Drive
sync) and django-prometheus the request metrics."""
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from chunks.metrics import scrape_time_collectors
from ragbase.process_metrics import metrics_are_shared


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
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry():
    if not metrics_are_shared():
        return REGISTRY
    # Every process's counters and histograms from their files (a finished process's stay counted),
    # and the series read from Postgres once, not once a process.
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    for collector in scrape_time_collectors():
        registry.register(collector)
    return registry
