"""Waking the drain.

Whatever puts work in the outbox calls `notify()`; once the transaction commits, the drain is
woken in the way the mode allows:

- Server mode (QDRANT_URL set): every process may reach Qdrant, so the `chunks.tasks.drain_outbox`
  django-q2 task is enqueued (a drain with nothing due costs one SELECT; row locks keep
  concurrent drains apart), and the "outbox drain" schedule catches anything missed.
- Embedded mode: only the `manage.py serve` process owns the vector store. It runs an
  `OwnerDrainThread` that drains on wake-up or every OUTBOX_POLL_SECONDS. Other processes (the
  django-q2 workers that ingest) never open the store: they send a Postgres
  `NOTIFY ragbase_outbox`, which the owner thread LISTENs for, so a change is pushed within a
  second or so.
"""
import logging
import threading

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction

from chunks.outbox.drain import drain
from chunks.vector_index import uses_embedded_store

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "ragbase_outbox"
# A wake-up with this payload also asks the owner for the light consistency check (chunks.tasks).
INDEX_CHECK_REQUEST = "check_index"


def notify() -> None:
    """Wake the drain when the current transaction commits (at once outside one): PENDING chunks
    or deletions are waiting. However often a transaction asks, the drain is woken once."""
    if connection.in_atomic_block and any(callback is _wake for _, callback, _ in connection.run_on_commit):
        return
    transaction.on_commit(_wake)


def _wake() -> None:
    if uses_embedded_store():
        wake_owner()
        return
    from chunks.tasks import enqueue_drain  # chunks.tasks imports this module (its task wakes the owner)

    enqueue_drain()


def wake_owner(*, check_index: bool = False) -> None:
    """Tell the embedded store's owner (whichever process it is) that the outbox has work, and
    with `check_index` that the light consistency check is due."""
    payload = f", '{INDEX_CHECK_REQUEST}'" if check_index else ""
    with connection.cursor() as cursor:
        cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}{payload}")


class OwnerDrainThread(threading.Thread):
    """The embedded store owner's drain loop: LISTEN for wake-ups, drain, repeat until stopped."""

    def __init__(self, *, poll_seconds=None):
        super().__init__(name="outbox-drain", daemon=True)
        self.poll_seconds = poll_seconds or settings.OUTBOX_POLL_SECONDS
        self.stopping = threading.Event()
        self.drains = 0
        self.check_requested = False

    def stop(self, timeout=30):
        self.stopping.set()
        wake_owner()  # interrupt the LISTEN wait
        self.join(timeout)

    def run(self):
        listener = None
        try:
            while not self.stopping.is_set():
                try:
                    listener = listener or self._listen()
                    drain(stopping=self.stopping)  # stops between batches once stop() is called
                    self.drains += 1
                    if self.check_requested:
                        self.check_requested = False
                        self._check_index()
                    # Wait for a NOTIFY (or the poll interval), then drain again.
                    for note in listener.notifies(timeout=self.poll_seconds, stop_after=1):
                        self.check_requested |= note.payload == INDEX_CHECK_REQUEST
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
    def _check_index():
        # Here: the check's module uses the outbox (tombstones, notify), which imports this one.
        from chunks.services.index_check import record_light_check

        record_light_check()

    @staticmethod
    def _listen():
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        listener = psycopg.connect(**params, autocommit=True)
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return listener
