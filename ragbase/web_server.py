"""The web server's processes: what a worker does when gunicorn has forked it and when it exits,
its own state for /readyz (threads busy and idle, uptime, requests, the connection pool), and what
the embedded store's owner runs beside them (`StoreOwner`).

In embedded mode `serve` is the single owner of the vector store: it holds the store, drains the
outbox and answers the workers' index calls over a local socket (chunks/vector_index/owner_link.py);
it stops doing so only once the web server's workers have finished their in-flight requests.
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

from chunks.embedding import configured_model_id, get_embedder
from chunks.outbox.drain import settle_long_lived_objects
from chunks.outbox.wakeup import OwnerDrainThread
from chunks.vector_index import (
    CollectionMismatch,
    ensure_index_ready,
    get_vector_index,
    reset_vector_index,
    uses_embedded_store,
)
from chunks.vector_index.owner_link import OwnerLinkServer
from ragbase.startup import StartupError

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


class StoreOwner:
    """What the process that owns the embedded store runs beside serving (`serve`, or `serve
    --dev` itself): the outbox drain thread, and with `link` the link through which the web
    server's worker processes reach the store."""

    def __init__(self, *, link: bool):
        index = get_vector_index()
        spec = index.recorded_spec()
        try:
            if spec and spec["model_id"] == configured_model_id():
                ensure_index_ready(index, **spec)  # made for these models: no need to load them here
            else:
                ensure_index_ready(index)
        except CollectionMismatch as exc:
            raise StartupError(f"{exc} Rebuild it for the configured models with `manage.py reindex`.") from None
        self.drainer = OwnerDrainThread()
        self.drainer.start()
        self.link = OwnerLinkServer(index) if link else None
        connections.close_all()
        settle_long_lived_objects()

    def worker_environment(self) -> dict:
        """What the web server's processes need to reach the store."""
        return {"RAGBASE_STORE_OWNER_SOCKET": str(self.link.path), "RAGBASE_STORE_OWNER_KEY": self.link.key.hex()}

    def stop(self):
        """Once no request needs the store: the link closed, the drain stopped between batches,
        the store closed (its folder's lock released)."""
        if self.link is not None:
            self.link.stop()
        self.drainer.stop()
        reset_vector_index()
        close_database()
        log.info("process %s stopped owning the store: outbox drain stopped, vector store closed", os.getpid())


def prepare_to_serve():
    """What a serving process does before its first request: the URL patterns and the embedder
    loaded, the store's collection checked (through the owner, in a worker process)."""
    get_resolver().url_patterns  # noqa: B018  (loaded now, not on the first request)
    get_embedder().embed_query("warm up")
    if uses_embedded_store():
        ensure_index_ready()
    connections.close_all()
    settle_long_lived_objects()


def close_database():
    """Close this process's connections and pools."""
    for connection in connections.all():
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


def worker_exiting():
    """gunicorn's worker_exit, once its in-flight requests have finished."""
    reset_vector_index()
    close_database()


def worker_started(worker):
    """gunicorn's post_worker_init: load what requests need (the store stays with `serve`)."""
    # Ctrl-C reaches the whole process group: let the worker finish its requests, as on SIGTERM.
    signal.signal(signal.SIGINT, worker.handle_exit)
    state.serving(software=f"gunicorn {gunicorn.__version__} (gthread)", threads=worker.cfg.threads)
    prepare_to_serve()
    log.info("web server worker %s ready: %s threads", os.getpid(), worker.cfg.threads)
