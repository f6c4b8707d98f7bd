"""Claiming the work items of syncs in batches, fairly between owners.

A claim is a lease, committed at once (so progress shows "being processed"): the items get a
claim id and `lease_until`; the processing task renews the lease as it goes and writes its
results only for items still carrying its claim. A killed worker's lease runs out and the items
are claimed again; one claimed MAX_ATTEMPTS times without finishing fails with the reason, so a
file that kills its worker cannot stall the sync.

Fairness: the next batch comes from the active run with the fewest batches in flight, then the
one served longest ago, so a small Drive's sync is served between a large one's batches and
every processing lane is used when one Drive alone has work. Rows are taken with
`FOR UPDATE SKIP LOCKED`: concurrent claims on any number of machines never wait or overlap."""
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models.functions import Now

from drive.models import SyncItem, SyncRun
from drive.services.files import record_failure

MAX_ATTEMPTS = 3

_OPEN = "i.state IN ('queued', 'claimed') AND (i.state = 'queued' OR i.lease_until < now())"
_CANDIDATE_RUNS = f"""
    SELECT r.id FROM drive_syncrun r
     WHERE r.phase IN ('listing', 'processing') {{only_run}}
       AND EXISTS (SELECT 1 FROM drive_syncitem i WHERE i.run_id = r.id AND {_OPEN})
     ORDER BY (SELECT count(*) FROM drive_syncitem i
                WHERE i.run_id = r.id AND i.state = 'claimed' AND i.lease_until >= now()),
              r.last_claim_at NULLS FIRST, r.id
     LIMIT 8
"""
_CLAIMABLE = f"""
    SELECT i.id, i.estimated_chunks, i.attempts FROM drive_syncitem i
     WHERE i.run_id = %s AND {_OPEN}
     ORDER BY i.id
     LIMIT %s
       FOR UPDATE SKIP LOCKED
"""
_CLAIM = """
    UPDATE drive_syncitem SET state = 'claimed', claim = %(claim)s, attempts = attempts + 1,
           lease_until = now() + make_interval(secs => %(lease)s)
     WHERE id = ANY(%(ids)s)
"""


@dataclass
class Batch:
    run_id: int
    claim: uuid.UUID
    item_ids: list[int]


def lease_seconds() -> int:
    """Longer than the longest gap between two renewals: one Google call or embedding slice."""
    return settings.DRIVE_TASK_SECONDS + settings.DRIVE_HTTP_TIMEOUT_SECONDS


def claim_batch(*, run_id: int | None = None, chunk_budget: int | None = None, at_least_one: bool = True) -> Batch | None:
    """Claim up to DRIVE_BATCH_FILES items of one run whose estimated chunks fit `chunk_budget`
    (with `at_least_one`, the first item whatever its size). `run_id`: only that run (inline sync)."""
    chunk_budget = min(chunk_budget or settings.DRIVE_BATCH_CHUNKS, settings.DRIVE_BATCH_CHUNKS)
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(_CANDIDATE_RUNS.format(only_run="AND r.id = %s" if run_id else ""), [run_id] if run_id else [])
        for (candidate,) in cursor.fetchall():
            cursor.execute(_CLAIMABLE, [candidate, settings.DRIVE_BATCH_FILES])
            picked, exhausted, chunks = [], [], 0
            for item_id, estimated, attempts in cursor.fetchall():
                if attempts >= MAX_ATTEMPTS:
                    exhausted.append(item_id)
                elif (at_least_one and not picked) or chunks + estimated <= chunk_budget:
                    picked.append(item_id)
                    chunks += estimated
            _give_up(candidate, exhausted)
            if not picked:
                if not at_least_one:
                    return None  # the smallest next file does not fit the time left
                continue
            claim = uuid.uuid4()
            cursor.execute(_CLAIM, {"claim": claim, "lease": lease_seconds(), "ids": picked})
            cursor.execute("UPDATE drive_syncrun SET last_claim_at = now() WHERE id = %s", [candidate])
            return Batch(candidate, claim, picked)
    return None


def _give_up(run_id: int, item_ids: list[int]) -> None:
    if not item_ids:
        return
    owner = SyncRun.objects.select_related("connection__user").get(pk=run_id).connection.user
    error = (f"Processing this file was interrupted {MAX_ATTEMPTS} times (the worker was killed or timed "
             "out); it was given up. The next sync tries it again.")
    for item in SyncItem.objects.filter(id__in=item_ids):
        if item.action == SyncItem.Action.INGEST:
            record_failure(owner=owner, file=item.file, error=error)
    finish(item_ids, outcome=SyncItem.Outcome.FAILED, error=error)


def finish(item_ids, *, outcome: str, error: str = "") -> None:
    SyncItem.objects.filter(id__in=item_ids).update(state=SyncItem.State.DONE, outcome=outcome, error=error[:2000],
                                                    finished_at=Now(), claim=None, lease_until=None)


def renew(batch: Batch) -> None:
    with db.cursor() as cursor:
        cursor.execute("UPDATE drive_syncitem SET lease_until = now() + make_interval(secs => %s)"
                       " WHERE claim = %s AND state = 'claimed'", [lease_seconds(), batch.claim])


def release(batch: Batch, item_ids, *, count_attempt: bool = False) -> None:
    """Give items back to the queue. Not counted as an attempt unless the item itself is at fault."""
    with db.cursor() as cursor:
        cursor.execute(
            "UPDATE drive_syncitem SET state = 'queued', claim = NULL, lease_until = NULL,"
            " attempts = greatest(attempts - %s, 0) WHERE claim = %s AND id = ANY(%s)",
            [0 if count_attempt else 1, batch.claim, list(item_ids)])


def has_claimable_work(run_id: int | None = None) -> bool:
    query = f"""SELECT EXISTS (SELECT 1 FROM drive_syncitem i JOIN drive_syncrun r ON r.id = i.run_id
                 WHERE r.phase IN ('listing', 'processing') AND {_OPEN} {"AND r.id = %s" if run_id else ""})"""
    with db.cursor() as cursor:
        cursor.execute(query, [run_id] if run_id else [])
        return cursor.fetchone()[0]
