"""The processing half of a sync: claim a batch, download or export its files (bounded), extract
and chunk them, embed the chunks of the whole batch together, and write everything (documents,
PENDING chunks, the items' outcomes) in one transaction. A killed task therefore leaves no half
batch: its items go back to the queue when their lease runs out and are redone once.

Embedding runs in slices sized by the rate measured in this process, so a task stops before the
slice that would pass its time bound; files not embedded by then go back to the queue for the
next task. A file too large for any single task's bound alone is finished within the hard limit
of the task that has it first (or fails alone with the reason)."""
import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection as db
from django.db import transaction

from chunks.embedding import get_embedder
from chunks.models import Document
from chunks.services.ingestion import IngestItem, indexed_content, prepare_documents, write_documents
from drive.models import DriveFile, SyncItem, SyncRun
from drive.services import batching, runs
from drive.services.budget import Budget
from drive.services.files import (
    EXPORT_FORMATS,
    FileUnreadable,
    current_documents,
    download,
    parse_time,
    record_failure,
    remove_file,
    update_metadata,
)
from drive.services.google_api import GoogleUnavailable, GrantRevoked, OutOfTime, time_bound

logger = logging.getLogger(__name__)

PROBE_TEXTS = 8  # a task's first embedding slice; each next one may be twice as large
WRITE_SHARE = 0.1  # of the task bound, kept for the batch's write
_seconds_per_text: float | None = None  # the embedding cost last measured in this process (sizes claims)


class _Pace:
    """A task's embedding pace. Its first slice is small and each next at most twice the last, so
    a rate measured elsewhere (another task, shorter texts, a quieter machine) cannot make one
    slice overrun the bound by much."""

    def __init__(self):
        self.seconds_per_text = _seconds_per_text
        self.largest = PROBE_TEXTS

    def seconds_for(self, texts: int) -> float:
        return 0.0 if self.seconds_per_text is None else texts * self.seconds_per_text

    def slice_size(self, seconds_left: float) -> int:
        if self.seconds_per_text is None:
            return self.largest
        return min(self.largest, int(seconds_left / self.seconds_per_text))

    def measured(self, texts: int, seconds: float) -> None:
        global _seconds_per_text
        rate = seconds / texts
        self.seconds_per_text = rate if self.seconds_per_text is None else (self.seconds_per_text + rate) / 2
        _seconds_per_text = self.seconds_per_text
        self.largest = min(settings.EMBED_BATCH_SIZE, 2 * max(self.largest, texts))


@dataclass
class ProcessResult:
    batches: int = 0
    files: int = 0
    more: bool = False  # claimable work is left (time ran out)
    seconds: float = 0.0  # how long the task worked (the django-q2 task result shows it)


@dataclass
class _Fetched:
    item: SyncItem
    ingest: IngestItem


def process_batches(*, run_id: int | None = None, budget: Budget | None = None, beat=None) -> ProcessResult:
    """Claim and process batches until the budget is spent or nothing is claimable. `run_id`:
    only that run's items (inline sync). `beat()`: called after each batch; False stops the loop
    (the task's lane was taken over)."""
    budget = budget or Budget.for_task()
    embedder = get_embedder()
    services, pace = {}, _Pace()
    result = ProcessResult()
    while budget.left() > 0:
        # After the first batch, only files the time left can embed: a file claimed too late is
        # only downloaded again by the next task.
        batch = batching.claim_batch(run_id=run_id, chunk_budget=_chunks_that_fit(budget, pace),
                                     at_least_one=result.batches == 0)
        if batch is None:
            result.more = result.batches > 0 and batching.has_claimable_work(run_id)
            result.seconds = round(budget.elapsed(), 2)
            return result
        result.files += _process(batch, budget, embedder, services, pace, fresh=result.batches == 0)
        result.batches += 1
        runs.finish_if_complete(batch.run_id)
        if beat is not None and not beat():
            break
    result.more = batching.has_claimable_work(run_id)
    result.seconds = round(budget.elapsed(), 2)
    return result


def _time_to_embed(budget: Budget) -> float:
    return budget.left() - WRITE_SHARE * budget.seconds


def _chunks_that_fit(budget: Budget, pace: _Pace) -> int | None:
    """Claim no more estimated chunks than the time left can embed at the task's pace (a first
    batch the size of the probe slice while the pace is unknown)."""
    if pace.seconds_per_text is None:
        return PROBE_TEXTS
    return max(1, int(_time_to_embed(budget) / pace.seconds_per_text))


def _process(batch, budget, embedder, services, pace, *, fresh: bool) -> int:
    run = SyncRun.objects.select_related("connection__user").get(pk=batch.run_id)
    items = list(SyncItem.objects.filter(claim=batch.claim).order_by("id"))
    if run.pk not in services:
        services[run.pk] = runs.google_service(run)
    service = services[run.pk]
    if service is None:
        batching.release(batch, batch.item_ids)
        return 0
    owner = run.connection.user
    ingest = [item for item in items if item.action == SyncItem.Action.INGEST]
    current = current_documents(owner=owner, files=[item.file for item in ingest])
    failures, fetched, prepared, leftover = {}, [], [], []
    texts, resource = 0, service.files()
    known = indexed_content([_ingest_item(owner, item.file, b"", "") for item in ingest])
    try:
        with time_bound(budget.hard_deadline):
            for item in ingest:
                if item.file_id in current:
                    continue
                # Download no more than the time left can embed: what is not embedded is downloaded again.
                if leftover or budget.left() <= 0 or (fetched and pace.seconds_for(texts) > _time_to_embed(budget)):
                    leftover.append(item)
                    continue
                try:
                    content, mime_type = download(resource, item.file)
                except FileUnreadable as error:
                    failures[item.id] = str(error)
                    continue
                except OutOfTime:
                    leftover.append(item)
                    continue
                fetched.append(_Fetched(item, _ingest_item(owner, item.file, content, mime_type)))
                prepared += prepare_documents(items=[fetched[-1].ingest], tokenizer=embedder, known=known)
                texts += len(prepared[-1].texts) if prepared[-1].needs_vectors else 0
                batching.renew(batch)
    except (GrantRevoked, GoogleUnavailable) as error:
        batching.release(batch, batch.item_ids)
        services.pop(run.pk, None)
        runs.on_google_failure(run.pk, error)
        return 0
    _embed_within(prepared, embedder, budget, batch, pace, may_overrun=fresh)
    ready = []
    for entry, document in zip(fetched, prepared, strict=True):
        if document.needs_vectors:  # not embedded within the bound: the next task takes it
            leftover.append(entry.item)
        else:
            ready.append((entry, document))
    done = _write(run, batch, items, current, failures, ready, leftover)
    runs.touch(run.pk)
    return done


def _ingest_item(owner, file: dict, content: bytes, mime_type: str) -> IngestItem:
    return IngestItem(owner=owner, source=Document.Source.DRIVE, source_id=file["id"],
                      title=file.get("name") or file["id"], mime_type=mime_type, content=content,
                      url=file.get("webViewLink", ""), modified_at=parse_time(file.get("modifiedTime")))


def _embed_within(prepared, embedder, budget: Budget, batch, pace: _Pace, *, may_overrun: bool) -> None:
    """Embed the documents' chunks, all files together, in slices that fit the budget. Documents
    whose chunks are all embedded get their vectors; the rest keep `needs_vectors`. With
    `may_overrun` (the task's first batch), a first document that no slice-sized budget can hold
    is finished within the hard limit, or failed with the reason."""
    pending = [entry for entry in prepared if entry.needs_vectors]
    texts, ends = [], []
    for entry in pending:
        texts += entry.texts
        ends.append(len(texts))
    vectors, position, assigned = [], 0, 0
    reserve = WRITE_SHARE * budget.seconds
    while position < len(texts):
        size = pace.slice_size(_time_to_embed(budget))
        if size <= 0:
            if assigned or not may_overrun:
                return
            first = ends[0] - position
            if pace.seconds_per_text * first > budget.hard_left() - reserve:
                pending[0].error = (
                    f"the file needs about {pace.seconds_per_text * ends[0]:.0f} s of embedding ({ends[0]} chunks), "
                    f"more than one sync task may take (Q_TIMEOUT_SECONDS={settings.Q_CLUSTER['timeout']})")
                return
            size = min(pace.largest, first)
        started = time.monotonic()
        vectors += embedder.embed_documents(texts[position:position + size])
        pace.measured(min(size, len(texts) - position), time.monotonic() - started)
        position = min(position + size, len(texts))
        while assigned < len(pending) and ends[assigned] <= position:
            start = ends[assigned - 1] if assigned else 0
            pending[assigned].vectors = vectors[start:ends[assigned]]
            assigned += 1
        batching.renew(batch)


def _write(run, batch, items, current, failures, ready, leftover) -> int:
    """One transaction: the batch's outcomes, for the items still under this claim."""
    owner = run.connection.user
    outcomes: dict[int, tuple[str, str]] = {}
    with transaction.atomic():
        with db.cursor() as cursor:  # a disconnect deleting this run waits for this write, or went first
            cursor.execute("SELECT 1 FROM drive_syncrun WHERE id = %s FOR SHARE", [run.pk])
            if cursor.fetchone() is None:
                return 0
        mine = set(SyncItem.objects.select_for_update().filter(
            claim=batch.claim, state=SyncItem.State.CLAIMED).values_list("id", flat=True))
        for item in items:
            if item.id not in mine:
                continue
            if item.action == SyncItem.Action.REMOVE:
                removed = remove_file(owner=owner, file_id=item.file_id)
                outcomes[item.id] = (SyncItem.Outcome.REMOVED if removed else SyncItem.Outcome.ABSENT, "")
            elif item.file_id in current:
                update_metadata(current[item.file_id], item.file)
                outcomes[item.id] = (SyncItem.Outcome.SKIPPED, "")
            elif item.id in failures:
                record_failure(owner=owner, file=item.file, error=failures[item.id][:2000])
                outcomes[item.id] = (SyncItem.Outcome.FAILED, failures[item.id])
        ready = [(fetched, entry) for fetched, entry in ready if fetched.item.id in mine]
        documents = write_documents(prepared=[entry for _, entry in ready])
        # The md5 of the bytes ingested (not of the listing: the file may have changed since).
        DriveFile.objects.bulk_create(
            [DriveFile(document=document, drive_mime_type=fetched.item.file["mimeType"],
                       md5_checksum="" if fetched.item.file["mimeType"] in EXPORT_FORMATS
                       else hashlib.md5(entry.item.content, usedforsecurity=False).hexdigest())
             for (fetched, entry), document in zip(ready, documents, strict=True)],
            update_conflicts=True, unique_fields=["document"], update_fields=["md5_checksum", "drive_mime_type"])
        for (fetched, entry), document in zip(ready, documents, strict=True):
            failed = document.state == Document.State.FAILED
            outcomes[fetched.item.id] = (SyncItem.Outcome.FAILED if failed else SyncItem.Outcome.INGESTED,
                                         document.error if failed else "")
        for (outcome, error), ids in _grouped(outcomes).items():
            batching.finish(ids, outcome=outcome, error=error)
        batching.release(batch, [item.id for item in leftover if item.id in mine])
    return len(outcomes)


def _grouped(outcomes: dict[int, tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for item_id, outcome in outcomes.items():
        groups.setdefault(outcome, []).append(item_id)
    return groups
