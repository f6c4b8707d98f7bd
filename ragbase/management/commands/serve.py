"""Run ragbase in one command: migrations, superuser, static files, the django-q2 cluster and the
production web server (gunicorn, ragbase/gunicorn_config.py — the Docker image's server too).

    serve: owns the embedded store, drains the outbox, answers the workers' index calls
      ├─ gunicorn master ── GUNICORN_WORKERS worker processes × GUNICORN_THREADS threads
      └─ django-q2 cluster (sync, extraction, embedding: Postgres only)

In embedded mode this process is the single owner of the vector store: it indexes it before
anything listens, then holds it, drains the outbox into it and answers the web server's workers
over a local socket (chunks/vector_index/owner_link.py). On SIGTERM or SIGINT (to this process or
its whole group, as service managers send it) in-flight requests finish, then the drain stops
between batches and the store is closed, and the cluster is stopped — killed if it has not stopped
within SERVE_CLUSTER_STOP_SECONDS. `--dev` serves with Django's development server instead.
"""
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from chunks.vector_index import (
    VectorStoreUnavailable,
    get_vector_index,
    reset_vector_index,
    uses_embedded_store,
)
from ragbase.checks import connection_budget_errors
from ragbase.startup import StartupError
from ragbase.temp_leftovers import remove_folders_of_killed_servers
from ragbase.web_server import StoreOwner, prepare_to_serve

_PR_SET_PDEATHSIG = 1
GUNICORN_CONFIG = settings.BASE_DIR / "ragbase" / "gunicorn_config.py"


def open_vector_store():
    """Embedded mode: take ownership of the store now (a second owner fails here, in one line).
    Server mode: fail at start, in one line, if the Qdrant server cannot be reached."""
    try:
        index = get_vector_index()
    except VectorStoreUnavailable as exc:
        raise StartupError(str(exc)) from None
    if not uses_embedded_store():
        health = index.health()
        if not health.ok:
            reset_vector_index()
            raise StartupError(f"cannot reach the Qdrant server (check QDRANT_URL): {health.detail}")
    return index


def index_embedded_store_at_start(index, *, report=lambda message: None) -> str | None:
    """Embedded mode: build the engine's HNSW now, before serving. qdrant-edge holds the GIL while
    it optimizes (about 0.6 ms a chunk here), which would freeze every request if done while
    serving; at start nobody waits on it yet. Segments below the engine's indexing threshold
    (~13k chunks) are left to exact search, so a small or already indexed store costs ~nothing.
    Returns what was done, or None when it was not attempted."""
    if not (settings.QDRANT_INDEX_ON_START and uses_embedded_store() and index.health().ok):
        return None
    report("indexing the embedded vector store (chunks added since the last start) …")
    return index.optimize()


def check_connection_budget():
    """The system check ragbase.E020 against the server's own max_connections (one query)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    errors = connection_budget_errors(max_connections)
    if errors:
        raise StartupError(errors[0].msg)


def _die_with_parent():
    """In the child before exec: SIGTERM when `serve` dies, even by SIGKILL (Linux prctl)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A process this command started and must stop: SIGTERM, a bounded wait, then SIGKILL for it
    and every process below it (django-q2's workers would otherwise be orphaned). `own_group`: not
    in serve's process group, so a signal to the group reaches it only through serve."""

    def __init__(self, name, args, *, own_group=False, env=None):
        self.name = name
        self.terminated = None
        self.process = subprocess.Popen(args, cwd=settings.BASE_DIR, start_new_session=own_group,
                                        env={**os.environ, **(env or {})},
                                        preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self._tree = psutil.Process(self.process.pid)
        self.descendants: set[psutil.Process] = set()

    def alive(self) -> bool:
        return self.process.poll() is None

    def remember_descendants(self):
        try:
            self.descendants.update(self._tree.children(recursive=True))
        except psutil.Error:
            pass

    def terminate(self):
        self.terminated = time.monotonic()
        self.remember_descendants()
        if self.alive():
            self.process.terminate()

    def kill_tree(self):
        for process in [self._tree, *self.descendants]:
            try:
                process.kill()
            except psutil.Error:
                pass
        self.process.wait()


def stop_child(child: Child, deadline: float, *, report):
    """Wait for a child already sent SIGTERM until `deadline` (monotonic), then kill what is left."""
    while child.alive() and time.monotonic() < deadline:
        child.remember_descendants()
        time.sleep(0.1)
    if child.alive():
        report(f"{child.name} did not stop within {deadline - child.terminated:.0f} s: killed")
    child.kill_tree()  # its own leftovers too, if it stopped without them


class Command(BaseCommand):
    help = "Migrate, ensure the superuser, start django-q2 workers and serve HTTP with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-workers", action="store_true", help="Do not start the django-q2 cluster.")
        parser.add_argument("--dev", action="store_true",
                            help="Serve with Django's development server (auto-reload off), for development only.")

    def handle(self, *args, addrport, no_workers, dev, **options):
        call_command("check")
        for folder in remove_folders_of_killed_servers():
            self.stdout.write(f"removed {folder}, left by a server that was killed")
        indexed = index_embedded_store_at_start(open_vector_store(), report=self.stdout.write)
        if indexed:
            self.stdout.write(f"vector store: {indexed}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_superuser")
        call_command("collectstatic", interactive=False, verbosity=0)
        check_connection_budget()
        if dev:
            return self.serve_development(addrport, no_workers)
        owner = StoreOwner(link=True) if uses_embedded_store() else None
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        web = Child("web server", [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", addrport],
                    env=owner.worker_environment() if owner else {})
        cluster = None if no_workers else self.start_cluster()
        children = [child for child in (web, cluster) if child]
        self.announce(addrport)
        while not stopping.wait(0.5) and all(child.alive() for child in children):
            pass
        failed = [child for child in children if not child.alive()]
        for child in children:
            child.terminate()
        started = time.monotonic()
        stop_child(web, started + settings.GUNICORN_GRACEFUL_TIMEOUT + 10, report=self.stderr.write)
        if owner:  # no request needs the store any more
            owner.stop()
        if cluster:
            stop_child(cluster, started + settings.SERVE_CLUSTER_STOP_SECONDS, report=self.stderr.write)
        if failed and not stopping.is_set():
            raise StartupError(f"the {failed[0].name} stopped (exit code {failed[0].process.returncode}); "
                               "see the lines above")
        self.stdout.write("ragbase stopped")

    def serve_development(self, addrport, no_workers):
        """Django's runserver in this process, which then owns the store and drains the outbox."""
        owner = StoreOwner(link=False) if uses_embedded_store() else None
        prepare_to_serve()
        cluster = None if no_workers else self.start_cluster()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.announce(addrport)
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            if owner:
                owner.stop()
            if cluster is not None:
                cluster.terminate()
                stop_child(cluster, time.monotonic() + settings.SERVE_CLUSTER_STOP_SECONDS, report=self.stderr.write)

    @staticmethod
    def start_cluster() -> Child:
        # Its own process group: django-q2's worker processes die at once on SIGTERM, and its
        # supervisor then waits for them for up to Q_TIMEOUT_SECONDS; signalled by serve alone, it
        # lets the running tasks finish and stops within a second when idle. --stop-seconds: the
        # same bound serve applies, applied by the cluster itself when serve was killed.
        return Child("django-q2 cluster", [sys.executable, "manage.py", "qcluster", "--stop-seconds",
                                           str(settings.SERVE_CLUSTER_STOP_SECONDS)], own_group=True)

    def announce(self, addrport):
        self.stdout.write(
            self.style.SUCCESS(
                f"ragbase is serving on http://{addrport}/  (admin: http://{addrport}/admin/, "
                f"user {settings.RAGBASE_ADMIN_USERNAME!r}"
                + (", password from RAGBASE_ADMIN_PASSWORD in .env)" if settings.RAGBASE_ADMIN_PASSWORD else ")")
            ),
        )
        self.stdout.flush()
