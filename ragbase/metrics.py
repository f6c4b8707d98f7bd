"""The /metrics endpoint: every series registered in this process, for Prometheus. The apps define
their own (chunks.metrics: the outbox; search.metrics: search latency; drive.metrics: Drive sync)
and django-prometheus the request metrics."""
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


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
