"""What starts a drain.

Server mode (QDRANT_URL set): every process may reach Qdrant, so `outbox_has_work` enqueues the
`chunks.tasks.drain_outbox` django-q2 task (a drain with nothing due costs one SELECT; row locks
keep concurrent drains apart), and the "outbox drain" schedule catches anything missed.

Embedded mode: only the `manage.py serve` process owns the vector store. It runs an
`OwnerDrainThread` that drains on wake-up or every OUTBOX_POLL_SECONDS. Other processes (the
django-q2 workers that ingest) never open the store: the signal and the scheduled task send a
Postgres `NOTIFY ragbase_outbox`, which the owner thread LISTENs for, so a new document is
searchable within a second or so.
"""
import logging
import threading

import psycopg
from django.conf import settings
from django.db import connection

from chunks.vector_index import uses_embedded_store

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "ragbase_outbox"


def wake_owner() -> None:
    """Tell the embedded store's owner (whichever process it is) that the outbox has work."""
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def on_outbox_has_work(sender=None, **kwargs) -> None:
    """Receiver of chunks.signals.outbox_has_work (sent after the work has committed)."""
    if uses_embedded_store():
        wake_owner()
        return
    from django_q.tasks import async_task

    async_task("chunks.tasks.drain_outbox", task_name="outbox drain (triggered)")


class OwnerDrainThread(threading.Thread):
    """The embedded store owner's drain loop: LISTEN for wake-ups, drain, repeat until stopped."""

    def __init__(self, *, poll_seconds=None):
        super().__init__(name="outbox-drain", daemon=True)
        self.poll_seconds = poll_seconds or settings.OUTBOX_POLL_SECONDS
        self.stopping = threading.Event()
        self.drains = 0

    def stop(self, timeout=30):
        self.stopping.set()
        wake_owner()  # interrupt the LISTEN wait
        self.join(timeout)

    def run(self):
        from django.db import connections

        from chunks.outbox import drain

        listener = None
        try:
            while not self.stopping.is_set():
                try:
                    listener = listener or self._listen()
                    drain()
                    self.drains += 1
                    # Wait for a NOTIFY (or the poll interval), then drain again.
                    for _ in listener.notifies(timeout=self.poll_seconds, stop_after=1):
                        pass
                except Exception:  # keep the owner serving; the next round retries
                    log.exception("outbox: drain round failed")
                    if listener is not None:
                        listener.close()
                        listener = None
                    connections.close_all()
                    self.stopping.wait(self.poll_seconds)
        finally:
            if listener is not None:
                listener.close()
            connections.close_all()

    @staticmethod
    def _listen():
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        listener = psycopg.connect(**params, autocommit=True)
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return listener
