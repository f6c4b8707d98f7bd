"""Run ragbase in one command: migrations, superuser, django-q2 workers and the web server.

In embedded mode this process is the single owner of the embedded vector store: it serves
search and drains the outbox. The django-q2 workers it starts only write Postgres.
"""
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import get_resolver

from chunks.embedding import get_embedder
from chunks.outbox.drain import settle_long_lived_objects
from chunks.outbox.wakeup import OwnerDrainThread
from chunks.vector_index import (
    VectorStoreUnavailable,
    get_vector_index,
    reset_vector_index,
    uses_embedded_store,
)
from ragbase.startup import StartupError


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


class Command(BaseCommand):
    help = "Migrate, ensure the superuser, start django-q2 workers and serve HTTP."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-workers", action="store_true", help="Do not start the django-q2 cluster.")

    def handle(self, *args, addrport, no_workers, **options):
        call_command("check")
        indexed = index_embedded_store_at_start(open_vector_store(), report=self.stdout.write)
        if indexed:
            self.stdout.write(f"vector store: {indexed}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_superuser")
        call_command("collectstatic", interactive=False, verbosity=0)
        # Load what every request needs now, not on the first search, then settle it.
        get_resolver().url_patterns  # noqa: B018
        get_embedder().embed_query("warm up")
        settle_long_lived_objects()
        drainer = None
        if uses_embedded_store():
            # This process owns the embedded store, so it drains the outbox itself.
            drainer = OwnerDrainThread()
            drainer.start()
        cluster = None
        if not no_workers:
            cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=settings.BASE_DIR)
        # SIGTERM (service managers, `kill`) must stop the workers too, not orphan them.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(
            self.style.SUCCESS(
                f"ragbase is serving on http://{addrport}/  (admin: http://{addrport}/admin/, "
                f"user {settings.RAGBASE_ADMIN_USERNAME!r}"
                + (", password from RAGBASE_ADMIN_PASSWORD in .env)" if settings.RAGBASE_ADMIN_PASSWORD else ")")
            )
        )
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            if drainer is not None:
                drainer.stop()
            if cluster is not None:
                cluster.terminate()
                cluster.wait(timeout=30)
