"""The drain: PENDING chunks → vector store → SYNCED with their vectors set to NULL.

One batch = one transaction: claim rows with `FOR UPDATE SKIP LOCKED` (so concurrent drains never
take the same rows, and never carry the same point in two in-flight batches), upsert them
(wait=true), then mark them SYNCED in a single UPDATE before committing. The row locks are held
through the upsert; a killed drain's locks die with its connection, so nothing is stranded. Point
ids are the chunks' fixed `qdrant_id`s: a crash between upsert and commit only causes an
idempotent re-push.

Failures: when the store is unreachable the batch waits (attempt count, error, next attempt with
exponential backoff and jitter) and the drain stops; an outage never fails a chunk. When the store
is healthy but rejects a batch, the batch is bisected so one bad chunk cannot block the others;
a chunk rejected `OUTBOX_MAX_ATTEMPTS` times becomes FAILED with the reason.
Deletions (VectorDeletion tombstones) are claimed, pushed and removed the same way.
"""
import gc
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connection, connections, transaction

from chunks.metrics import OUTBOX_DELETED, OUTBOX_DRAIN_ERRORS, OUTBOX_PUSHED
from chunks.models import Chunk
from chunks.vector_index import VectorIndex, VectorPoint, VectorStoreUnavailable, ensure_index_ready

log = logging.getLogger(__name__)
_DENSE, _SPARSE_INDICES, _SPARSE_VALUES = (
    Chunk._meta.get_field(name) for name in ("dense_vector", "sparse_indices", "sparse_values")
)

# Two claims, each an ordered scan of the chunk_pending_queue index that stops at LIMIT (one
# query with "IS NULL OR <= now()" made Postgres sort every PENDING row for each batch):
# first never-tried chunks, then retries whose backoff has passed.
_CLAIM_CHUNKS = """
    SELECT c.id, c.qdrant_id::text, c.document_id, c.dense_vector, c.sparse_indices, c.sparse_values,
           c.owner_id::text, d.source, d.mime_type, coalesce(extract(epoch from d.modified_at), 0)::float8
      FROM chunks_chunk c JOIN chunks_document d ON d.id = c.document_id
     WHERE c.sync_status = 'PENDING' AND {due}
     ORDER BY c.next_attempt_at, c.id
     LIMIT %s
       FOR UPDATE OF c SKIP LOCKED
"""
_CLAIM_NEW_CHUNKS = _CLAIM_CHUNKS.format(due="c.next_attempt_at IS NULL")
_CLAIM_RETRY_CHUNKS = _CLAIM_CHUNKS.format(due="c.next_attempt_at <= now()")
# A commit lost in a crash only leaves its chunks PENDING (or tombstones due) for an idempotent
# re-push, so the drain need not wait for its commits to reach disk.
# enable_sort: the claims are only fast as ordered index scans. Right after a bulk import, before
# autovacuum has analyzed the table, the planner expects a handful of PENDING rows and sorts all
# of them instead, every batch (20k pending: 47 ms a claim instead of 6 ms).
_TRANSACTION_SETTINGS = "SET LOCAL synchronous_commit = off; SET LOCAL enable_sort = off"
_MARK_SYNCED = """
    UPDATE chunks_chunk
       SET sync_status = 'SYNCED', dense_vector = NULL, sparse_indices = NULL, sparse_values = NULL,
           synced_at = now(), updated_at = now(), last_sync_error = '', next_attempt_at = NULL
     WHERE id = ANY(%s)
"""
# Backoff: base * 2^(attempts-1), capped, times a jitter factor in [0.5, 1).
_BACKOFF = "make_interval(secs => least(%(max)s, %(base)s * power(2, least({attempts}, 30) - 1)) * (0.5 + random() / 2))"
_MARK_RETRY = f"""
    UPDATE chunks_chunk
       SET sync_attempts = sync_attempts + 1, last_sync_error = %(error)s, updated_at = now(),
           next_attempt_at = now() + {_BACKOFF.format(attempts="sync_attempts + 1")},
           sync_status = CASE WHEN %(may_fail)s AND sync_attempts + 1 >= %(max_attempts)s
                              THEN 'FAILED' ELSE 'PENDING' END
     WHERE id = ANY(%(ids)s)
"""
_CLAIM_DELETIONS = """
    SELECT id, qdrant_id FROM chunks_vectordeletion
     WHERE NOT failed AND (next_attempt_at IS NULL OR next_attempt_at <= now())
     ORDER BY next_attempt_at NULLS FIRST, id
     LIMIT %s
       FOR UPDATE SKIP LOCKED
"""
_DELETION_RETRY = f"""
    UPDATE chunks_vectordeletion
       SET attempts = attempts + 1, last_error = %(error)s,
           next_attempt_at = now() + {_BACKOFF.format(attempts="attempts + 1")},
           failed = %(may_fail)s AND attempts + 1 >= %(max_attempts)s
     WHERE id = ANY(%(ids)s)
"""


@dataclass
class DrainResult:
    synced: int = 0  # chunks now SYNCED
    deleted: int = 0  # points deleted (tombstones processed)
    deferred: int = 0  # chunks/tombstones left PENDING for a later attempt
    failed: int = 0  # chunks/tombstones given up (FAILED) in this run
    batches: int = 0
    store_unavailable: bool = False
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: "DrainResult"):
        for name in ("synced", "deleted", "deferred", "failed", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.store_unavailable |= other.store_unavailable
        self.errors.extend(other.errors)
        return self


def settle_long_lived_objects() -> None:
    """Collect once, then exempt everything alive now (Django, the URLconf, models, the embedder)
    from later garbage collections. A full collection then no longer rescans them; the drain
    allocates enough lists to trigger many (measured: 3,470 → 4,280 chunks/s). Called by
    long-running drainers (`serve`, `sync_qdrant`) once they have loaded what they need."""
    gc.collect()
    gc.freeze()


def _record_metrics(batch: DrainResult) -> None:
    OUTBOX_PUSHED.inc(batch.synced)
    OUTBOX_DELETED.inc(batch.deleted)
    OUTBOX_DRAIN_ERRORS.inc(len(batch.errors))


def drain(*, batch_size=None, max_batches=None, index=None, progress=None, threads=None, stopping=None) -> DrainResult:
    """Push due deletions and PENDING chunks until none are due (or `max_batches`, or until
    `stopping`, a threading.Event, is set: checked between batches). `progress`, if given, is
    called with each batch's DrainResult (progress bars).

    With `threads` > 1 (default OUTBOX_DRAIN_THREADS) that many loops claim batches side by
    side, each on its own database connection: the engine holds the GIL while it indexes a
    batch, but Postgres claiming and marking the next batch runs meanwhile on another core.
    Inside a caller's transaction the drain stays on the caller's connection (other
    connections could not see its uncommitted rows), and `max_batches` is counted by one loop."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    threads = threads or settings.OUTBOX_DRAIN_THREADS
    total = DrainResult()
    try:
        index = ensure_index_ready(index)
    except VectorStoreUnavailable as exc:
        total.store_unavailable = True
        total.errors.append(str(exc))
        log.warning("outbox: vector store unavailable, chunks wait: %s", exc)
        return total
    if threads == 1 or max_batches is not None or connection.in_atomic_block:
        return _drain_loop(index, batch_size, max_batches, progress, stopping)
    progress_lock = threading.Lock()

    def report(batch):
        with progress_lock:
            progress(batch)

    def loop(_):
        try:
            return _drain_loop(index, batch_size, None, report if progress else None, stopping)
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(threads, thread_name_prefix="outbox-drain") as pool:
        for result in pool.map(loop, range(threads)):
            total += result
    return total


def _drain_loop(index, batch_size, max_batches, progress, stopping) -> DrainResult:
    total = DrainResult()
    while (max_batches is None or total.batches < max_batches) and not (stopping and stopping.is_set()):
        batch = _drain_deletions(index, batch_size)
        if not batch.store_unavailable:
            batch += _drain_chunks(index, batch_size)
        if not (batch.synced or batch.deleted or batch.deferred or batch.failed):
            break
        batch.batches = 1
        total += batch
        _record_metrics(batch)
        if progress:
            progress(batch)
        if batch.store_unavailable:
            log.warning("outbox: vector store unavailable, chunks wait: %s", batch.errors[-1])
            break
    return total


def _drain_chunks(index: VectorIndex, batch_size: int) -> DrainResult:
    result = DrainResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_SETTINGS)
        # Binary results: the packed vectors arrive as bytes, not as hex text to decode.
        # (Django's client-side cursors cannot return binary, so this one binds server-side.)
        with psycopg.Cursor(connection.connection) as binary_cursor:
            binary_cursor.execute(_CLAIM_NEW_CHUNKS, [batch_size], binary=True)
            rows = binary_cursor.fetchall()
            if len(rows) < batch_size:
                binary_cursor.execute(_CLAIM_RETRY_CHUNKS, [batch_size - len(rows)], binary=True)
                rows += binary_cursor.fetchall()
        if not rows:
            return result
        points, row_ids, unusable, payloads = [], {}, [], {}
        for pk, point_id, document_id, dense, s_idx, s_val, *document in rows:
            if dense is None or s_idx is None or s_val is None or len(s_idx) != len(s_val):
                unusable.append(pk)
                continue
            row_ids[point_id] = pk
            # One payload object per document: the chunks of a document share it.
            payload = payloads.get(document_id)
            if payload is None:
                owner_id, source, mime, modified = document
                payload = payloads[document_id] = {
                    "owner_id": owner_id, "document_id": document_id, "source": source,
                    "mime_type": mime, "modified_at": modified,
                }
            points.append(
                VectorPoint(
                    id=point_id,
                    dense=_DENSE.unpack(dense),
                    sparse_indices=_SPARSE_INDICES.unpack(s_idx),
                    sparse_values=_SPARSE_VALUES.unpack(s_val),
                    payload=payload,
                )
            )
        if unusable:
            # No retry can help a chunk without vectors: fail it now (reindex re-embeds it).
            _record_failure(
                cursor, _MARK_RETRY, unusable, "chunk has no usable vectors; run `manage.py reindex`",
                may_fail=True, attempts_left=0,
            )
            result.failed += len(unusable)
        pushed, rejected, down_error = _push_bisecting(index, points)
        if pushed:
            cursor.execute(_MARK_SYNCED, [[row_ids[p.id] for p in pushed]])
            result.synced += len(pushed)
        if down_error is not None:
            result.store_unavailable = True
            result.errors.append(down_error)
            pushed_ids = {p.id for p in pushed}
            waiting = [row_ids[p.id] for p in points if p.id not in pushed_ids]
            _record_failure(cursor, _MARK_RETRY, waiting, down_error, may_fail=False)
            result.deferred += len(waiting)
        for error, group in _group_by_error(rejected):
            ids = [row_ids[p.id] for p in group]
            failed = _record_failure(cursor, _MARK_RETRY, ids, error, may_fail=True, count_table="chunks_chunk")
            result.failed += failed
            result.deferred += len(ids) - failed
            result.errors.append(error)
    return result


def _push_bisecting(index: VectorIndex, points: list[VectorPoint]):
    """Upsert `points`; when the healthy store rejects a batch, split it to isolate the bad points.
    Returns (pushed points, [(point, error)], error if the store is unreachable else None)."""
    if not points:
        return [], [], None
    try:
        index.upsert(points)
        return points, [], None
    except VectorStoreUnavailable as exc:
        error = str(exc)
    if not index.health().ok:
        return [], [], error
    if len(points) == 1:
        return [], [(points[0], error)], None
    middle = len(points) // 2
    left = _push_bisecting(index, points[:middle])
    if left[2] is not None:
        return left
    right = _push_bisecting(index, points[middle:])
    return left[0] + right[0], left[1] + right[1], right[2]


def _group_by_error(rejected):
    groups: dict[str, list] = {}
    for point, error in rejected:
        groups.setdefault(error, []).append(point)
    return groups.items()


def _record_failure(cursor, statement, ids, error, *, may_fail, attempts_left=None, count_table=None) -> int:
    """Count an attempt on `ids` with `error` and a backoff; returns how many became FAILED."""
    if not ids:
        return 0
    max_attempts = 0 if attempts_left == 0 else settings.OUTBOX_MAX_ATTEMPTS
    cursor.execute(
        statement,
        {
            "ids": ids,
            "error": error[:2000],
            "may_fail": may_fail,
            "max_attempts": max_attempts,
            "base": settings.OUTBOX_BACKOFF_BASE_SECONDS,
            "max": settings.OUTBOX_BACKOFF_MAX_SECONDS,
        },
    )
    if count_table is None:
        return 0
    cursor.execute(f"SELECT count(*) FROM {count_table} WHERE id = ANY(%s) AND sync_status = 'FAILED'", [ids])
    return cursor.fetchone()[0]


def _drain_deletions(index: VectorIndex, batch_size: int) -> DrainResult:
    result = DrainResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_SETTINGS)
        cursor.execute(_CLAIM_DELETIONS, [batch_size])
        rows = cursor.fetchall()
        if not rows:
            return result
        ids = [pk for pk, _ in rows]
        try:
            index.delete([str(qdrant_id) for _, qdrant_id in rows])
        except VectorStoreUnavailable as exc:
            healthy = index.health().ok
            _record_failure(cursor, _DELETION_RETRY, ids, str(exc), may_fail=healthy)
            result.store_unavailable = not healthy
            result.deferred += len(ids)
            result.errors.append(str(exc))
            return result
        cursor.execute("DELETE FROM chunks_vectordeletion WHERE id = ANY(%s)", [ids])
        result.deleted += len(ids)
    return result
