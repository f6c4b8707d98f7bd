"""The outbox: how chunks reach the vector store, and how their points leave it again.

    ingestion ──► Chunk rows PENDING, vectors staged ──┐
    removals  ──► VectorDeletion tombstones (enqueue) ─┤ same transaction as the caller's change
                                                        ▼
    notify() on commit ──► wakeup: a django-q2 task (Qdrant server) or a NOTIFY to the
                           embedded store's owner thread ──► drain: claim, upsert/delete,
                           mark SYNCED with vectors NULL

- `enqueue`: `delete_chunks`, `delete_document`, `requeue_failed` — every way a change enters.
- `wakeup`: `notify()` (called by everything that enqueues), `OwnerDrainThread`, `wake_owner()`.
- `drain`: `drain()` pushes what is due, in batches, with retries and backoff.
- `stats`: `stats()`, the outbox at a glance (admin, `outbox_status`, /readyz, /metrics).

Nothing else writes to the vector store, so Postgres and Qdrant never disagree for long.
"""
