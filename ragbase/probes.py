"""The probe endpoints, answered ahead of the rest of the middleware stack."""
from ragbase import health, metrics

PROBES = {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": metrics.metrics_view}


class ProbeMiddleware:
    """/healthz, /readyz and /metrics answer whatever the Host header says. Docker's HEALTHCHECK
    asks 127.0.0.1, orchestrators and Prometheus the container's IP: names a production
    ALLOWED_HOSTS does not list, which CommonMiddleware answers with 400. Probes read no session,
    set no cookie and are not counted as requests; /metrics keeps its own token check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        return probe(request) if probe else self.get_response(request)
