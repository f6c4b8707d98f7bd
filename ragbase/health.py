"""Liveness (/healthz) and readiness (/readyz) probes for load balancers and orchestrators."""
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from chunks.outbox.stats import stats as outbox_stats
from chunks.selectors import index_check_details, latest_index_check
from chunks.vector_index import get_vector_index
from ragbase import web_server


def healthz(request):
    """The process is up and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_postgres():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return {"ok": False, "detail": str(exc)}
    return {"ok": True}


def _check_vector_store():
    try:
        health = get_vector_index().health()
    except Exception as exc:
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    # The server backend reports ok with points=None while the collection does not exist yet.
    present = health.ok and health.points is not None
    return {"ok": present, "backend": health.backend, "detail": health.detail, "points": health.points}


def _check_outbox():
    try:
        age = outbox_stats().oldest_pending_age_seconds or 0.0
    except Exception as exc:
        return {"ok": False, "detail": str(exc)}
    limit = settings.READY_MAX_OUTBOX_AGE_SECONDS
    return {"ok": age <= limit, "oldest_pending_age_seconds": round(age, 1), "max_age_seconds": limit}


def _worker_clusters():
    """django-q2 cluster stats (reported, not gating: web may be ready while workers restart)."""
    try:
        from django_q.status import Stat

        return [
            {"cluster_id": str(s.cluster_id), "status": s.status, "workers": len(s.workers or [])}
            for s in Stat.get_all()
        ]
    except Exception as exc:
        return {"error": str(exc)}


def _index_check():
    """The last scheduled Postgres <-> vector store check: reported, not gating (a disagreement
    needs an operator, not a restart)."""
    try:
        return index_check_details(latest_index_check())
    except Exception as exc:
        return {"error": str(exc)}


def readyz(request):
    checks = {"postgres": _check_postgres()}
    if checks["postgres"]["ok"]:
        checks["outbox"] = _check_outbox()
    checks["vector_store"] = _check_vector_store()
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks, "workers": _worker_clusters(),
            "details": {"index_check": _index_check() if checks["postgres"]["ok"] else None},
            "server": web_server.state.report()}
    return JsonResponse(body, status=200 if ready else 503)
