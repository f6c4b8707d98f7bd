"""The web server's worker process: what it does when gunicorn has forked it and when it exits,
and its own state for /readyz (threads busy and idle, uptime, requests, the connection pool).

In embedded mode the worker is the single owner of the vector store: it opens the store (a second
owner fails here, naming the first), loads the embedder and starts the outbox drain thread before
it takes requests; at exit, after the in-flight requests have finished, it stops the drain between
two batches and closes the store, which releases the folder's lock.
"""
import logging
import os
import signal
import threading
import time

import gunicorn
from django.conf import settings
from django.db import connections
from django.urls import get_resolver
from gunicorn.workers.gthread import ThreadWorker

from chunks.embedding import get_embedder
from chunks.outbox.drain import settle_long_lived_objects
from chunks.outbox.wakeup import OwnerDrainThread
from chunks.vector_index import ensure_index_ready, reset_vector_index, uses_embedded_store

log = logging.getLogger(__name__)


class ServerState:
    """This process's server: what serves it, since when, and how many requests are in flight."""

    def __init__(self):
        self._lock = threading.Lock()
        self.software = "django runserver"
        self.threads = None  # runserver: a new thread per request
        self.started = time.monotonic()
        self.busy = 0
        self.served = 0

    def serving(self, *, software: str, threads: int):
        self.software, self.threads, self.started = software, threads, time.monotonic()

    def request_started(self):
        with self._lock:
            self.busy += 1

    def request_finished(self):
        with self._lock:
            self.busy -= 1
            self.served += 1

    def report(self) -> dict:
        with self._lock:
            busy, served = self.busy, self.served
        return {
            "software": self.software, "pid": os.getpid(), "threads": self.threads, "busy": busy,
            "idle": None if self.threads is None else max(self.threads - busy, 0),
            "uptime_seconds": round(time.monotonic() - self.started, 1), "requests": served,
            "database_pool": _pool_stats(),
        }


class StoppingThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, except that on SIGTERM it stops listening at once: it takes the
    connections the kernel has already queued, then closes its listening sockets. A new connection
    is then refused (a client or a balancer tries again elsewhere) instead of waiting in the queue
    for the whole grace period and being reset when the worker exits."""

    def set_accept_enabled(self, enabled):
        stopping = not enabled and not self.alive and self._accepting
        if stopping:
            for listener in self.sockets:
                for _ in range(self.worker_connections):
                    queued = self.nr_conns
                    self.accept(listener)
                    if self.nr_conns == queued:  # nothing more was waiting
                        break
        super().set_accept_enabled(enabled)
        if stopping:
            for listener in self.sockets:
                listener.close()


state = ServerState()
_drainer: OwnerDrainThread | None = None


def worker_processes() -> int:
    """One in embedded mode (the store's single owner, threads for concurrency); GUNICORN_WORKERS
    with a Qdrant server."""
    return 1 if uses_embedded_store() else settings.GUNICORN_WORKERS


def counting_requests(application):
    """`application`, counting the requests in flight in `state` (a request is busy until Django
    has returned its response)."""

    def counted(environ, start_response):
        state.request_started()
        try:
            return application(environ, start_response)
        finally:
            state.request_finished()

    return counted


def _pool_stats():
    pool = getattr(connections["default"], "pool", None)
    if pool is None:
        return None
    stats = pool.get_stats()
    return {key: stats.get(key, 0) for key in ("pool_min", "pool_max", "pool_size", "pool_available",
                                                "requests_waiting", "requests_num", "requests_queued",
                                                "requests_wait_ms", "connections_errors")}


def start_owner() -> bool:
    """What the serving process does before its first request (gunicorn's worker, or `serve
    --dev` itself): the URL patterns and the embedder loaded, and in embedded mode the store opened
    and the outbox drain thread started. True when this process now owns the embedded store."""
    global _drainer
    get_resolver().url_patterns  # noqa: B018  (loaded now, not on the first request)
    get_embedder().embed_query("warm up")
    if uses_embedded_store():
        ensure_index_ready()
        _drainer = OwnerDrainThread()
        _drainer.start()
    connections.close_all()
    settle_long_lived_objects()
    return _drainer is not None


def stop_owner():
    """Once the in-flight requests have finished: the drain stops between batches, the store is
    closed (its folder's lock released), the pool's connections closed."""
    global _drainer
    if _drainer is None:
        return
    _drainer.stop()
    _drainer = None
    reset_vector_index()
    for connection in connections.all():
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
    log.info("process %s stopped serving: outbox drain stopped, vector store closed", os.getpid())


def worker_started(worker):
    """gunicorn's post_worker_init: load what requests need, and own the store in embedded mode."""
    # Ctrl-C reaches the whole process group: let the worker finish its requests, as on SIGTERM.
    signal.signal(signal.SIGINT, worker.handle_exit)
    state.serving(software=f"gunicorn {gunicorn.__version__} (gthread)", threads=worker.cfg.threads)
    owner = start_owner()
    log.info("web server worker %s ready: %s threads%s", os.getpid(), worker.cfg.threads,
             ", owner of the embedded vector store" if owner else "")
