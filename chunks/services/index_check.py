"""Postgres ⇄ vector store consistency (`manage.py check_index`, the scheduled light check).

Three kinds of disagreement:
- missing: a SYNCED chunk whose point is not in the store (its vectors are gone: Postgres nulls
  them once pushed, so only re-embedding brings it back);
- orphan: a point whose chunk row is gone and that no pending deletion will remove;
- wrong payload: a point whose payload (owner, document, source, type, date) is not what Postgres
  says, so filters and tenant isolation would treat it wrongly.

The full check pages through both sides (store: scroll pages of ids and payloads; Postgres: SYNCED
chunks by primary key), so memory stays bounded; `repair_index` runs it again fixing each page the
cheapest safe way: orphans get a VectorDeletion tombstone (the outbox deletes them), payloads are
rewritten in place, and only missing chunks are embedded again (staged PENDING for the drain).
The light check compares counts per owner only (milliseconds per owner), tolerating the outbox's
work in flight; `record_light_check` stores its result (admin outbox panel, /readyz details).
"""
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Q

from chunks.models import Chunk, IndexCheck, SyncStatus, VectorDeletion
from chunks.outbox.wakeup import notify
from chunks.services.rebuild import reembed_chunks
from chunks.vector_index import QueryFilter, VectorIndex, get_vector_index, iter_pages

PAGE_SIZE = 1000
EXAMPLES = 5
KEEP_RESULTS = 50
_PAYLOAD_FIELDS = ("owner_id", "document_id", "source", "mime_type", "modified_at")
# What the payload of each of these points should be (the drain writes the same fields).
_EXPECTED_PAYLOADS = """
    SELECT c.qdrant_id::text, c.owner_id::text, c.document_id, d.source, d.mime_type,
           coalesce(extract(epoch from d.modified_at), 0)::float8
      FROM chunks_chunk c JOIN chunks_document d ON d.id = c.document_id
     WHERE c.qdrant_id = ANY(%s::uuid[])
"""


@dataclass
class PageFindings:
    missing: list[int] = field(default_factory=list)  # chunk primary keys
    orphans: list[tuple[str, dict]] = field(default_factory=list)  # (point id, its payload)
    wrong_payload: list[tuple[str, dict]] = field(default_factory=list)  # (point id, Postgres' payload)


@dataclass
class IndexReport:
    points: int = 0  # points scanned in the store
    synced: int = 0  # SYNCED chunks scanned in Postgres
    missing: int = 0
    orphans: int = 0
    wrong_payload: int = 0
    examples: dict = field(default_factory=lambda: {"missing": [], "orphans": [], "wrong_payload": []})
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.wrong_payload)

    def summary(self) -> str:
        return (f"{self.points} points, {self.synced} SYNCED chunks: {self.missing} missing from the store, "
                f"{self.orphans} orphan points, {self.wrong_payload} with a wrong payload")

    def _example(self, kind, text):
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(text)


def check_index(*, index: VectorIndex | None = None, payloads=True, page_size=PAGE_SIZE, on_page=None,
                progress=None) -> IndexReport:
    """Compare the store with Postgres. `payloads=False` compares ids only. `on_page(findings)` is
    called for each page's findings (the repair); `progress(n)` with each page's size."""
    index = index or get_vector_index()
    report, started = IndexReport(), time.monotonic()
    exists = index.recorded_spec() is not None  # no collection: every SYNCED chunk is missing
    if exists:
        for page in iter_pages(index, page_size=page_size, with_vectors=False):
            findings = _check_points(page, report, payloads)
            report.points += len(page)
            _report_page(findings, on_page, progress, len(page))
    last_pk = 0
    while True:
        rows = list(Chunk.objects.filter(sync_status=SyncStatus.SYNCED, pk__gt=last_pk).order_by("pk")
                    .values_list("pk", "qdrant_id", "owner_id", "document_id")[:page_size])
        if not rows:
            break
        last_pk = rows[-1][0]
        present = index.existing_ids([str(q) for _, q, _, _ in rows]) if exists else set()
        absent = [row for row in rows if str(row[1]) not in present]
        if absent:  # still SYNCED now? (a chunk deleted meanwhile has left with its point)
            still = set(Chunk.objects.filter(pk__in=[r[0] for r in absent], sync_status=SyncStatus.SYNCED)
                        .values_list("pk", flat=True))
            absent = [r for r in absent if r[0] in still]
        for pk, qdrant_id, owner_id, document_id in absent:
            report._example("missing", f"chunk {pk} (owner {owner_id}, document {document_id}): no point {qdrant_id}")
        report.synced += len(rows)
        report.missing += len(absent)
        _report_page(PageFindings(missing=[r[0] for r in absent]), on_page, progress, len(rows))
    report.seconds = time.monotonic() - started
    return report


def _report_page(findings, on_page, progress, n):
    if on_page and (findings.missing or findings.orphans or findings.wrong_payload):
        on_page(findings)
    if progress:
        progress(n)


def _check_points(page, report: IndexReport, payloads: bool) -> PageFindings:
    ids = [p.id for p in page]
    with connection.cursor() as cursor:
        cursor.execute(_EXPECTED_PAYLOADS, [ids])
        expected = {row[0]: dict(zip(_PAYLOAD_FIELDS, row[1:])) for row in cursor.fetchall()}
    leaving = {str(q) for q in VectorDeletion.objects.filter(qdrant_id__in=ids, failed=False)
               .values_list("qdrant_id", flat=True)}
    findings = PageFindings()
    for p in page:
        should = expected.get(p.id)
        if should is None:
            if p.id not in leaving:
                findings.orphans.append((p.id, p.payload))
                report._example("orphans", f"point {p.id} (owner {p.payload.get('owner_id')}, document "
                                           f"{p.payload.get('document_id')}): no chunk")
        elif payloads and any(p.payload.get(k) != v for k, v in should.items()):
            findings.wrong_payload.append((p.id, should))
            wrong = ", ".join(f"{k} {p.payload.get(k)!r} (Postgres: {v!r})" for k, v in should.items()
                              if p.payload.get(k) != v)
            report._example("wrong_payload", f"point {p.id}: {wrong}")
    report.orphans += len(findings.orphans)
    report.wrong_payload += len(findings.wrong_payload)
    return findings


@dataclass
class RepairResult:
    report: IndexReport
    tombstoned: int = 0
    payloads_rewritten: int = 0
    reembedded: int = 0


def repair_index(*, index: VectorIndex | None = None, embedder=None, progress=None) -> RepairResult:
    """Check again and fix each page's findings: orphans tombstoned (the outbox deletes them),
    payloads rewritten in place, missing chunks embedded again and staged PENDING. The caller
    drains (or the outbox does) to push the tombstones and the re-embedded chunks."""
    index = index or get_vector_index()
    counts = {"tombstoned": 0, "payloads_rewritten": 0, "reembedded": 0}

    def fix(findings: PageFindings):
        if findings.orphans:
            counts["tombstoned"] += _tombstone(findings.orphans)
        by_payload = defaultdict(list)
        for point_id, payload in findings.wrong_payload:
            by_payload[tuple(payload.items())].append(point_id)
        for payload, ids in by_payload.items():
            index.set_payload(ids, dict(payload))
            counts["payloads_rewritten"] += len(ids)
        if findings.missing:
            counts["reembedded"] += reembed_chunks(
                chunks=Chunk.objects.filter(pk__in=findings.missing, sync_status=SyncStatus.SYNCED), embedder=embedder)

    report = check_index(index=index, on_page=fix, progress=progress)
    if counts["tombstoned"] or counts["reembedded"]:
        notify()
    return RepairResult(report=report, **counts)


def _tombstone(orphans) -> int:
    def number(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    with transaction.atomic():
        VectorDeletion.objects.bulk_create(
            [VectorDeletion(qdrant_id=point_id, owner_id=number(payload.get("owner_id")) or 0,
                            document_id=number(payload.get("document_id"))) for point_id, payload in orphans],
            ignore_conflicts=True,
        )
        # A tombstone given up earlier (failed) is tried again.
        VectorDeletion.objects.filter(qdrant_id__in=[i for i, _ in orphans], failed=True).update(
            failed=False, attempts=0, next_attempt_at=None)
    return len(orphans)


# --- The light check ---------------------------------------------------------------------------
def light_check(*, index: VectorIndex | None = None) -> IndexReport:
    """Counts only, per owner: the store must hold at least the owner's SYNCED chunks and at most
    those plus the chunks and deletions the outbox is still working on. Points of no known owner
    count as orphans. A missing and an orphan point of the same owner cancel out here; the full
    check (`manage.py check_index`) finds every one."""
    index = index or get_vector_index()
    started = time.monotonic()
    per_owner = defaultdict(lambda: [0, 0])  # owner -> [SYNCED, in flight]
    rows = Chunk.objects.values("owner_id").annotate(
        synced=Count("pk", filter=Q(sync_status=SyncStatus.SYNCED)),
        pending=Count("pk", filter=Q(sync_status=SyncStatus.PENDING))).order_by()
    for row in rows:
        per_owner[row["owner_id"]][0] += row["synced"]
        per_owner[row["owner_id"]][1] += row["pending"]
    for row in VectorDeletion.objects.filter(failed=False).values("owner_id").annotate(n=Count("pk")).order_by():
        per_owner[row["owner_id"]][1] += row["n"]
    report = IndexReport(synced=sum(s for s, _ in per_owner.values()))
    exists = index.recorded_spec() is not None
    report.points = index.count() if exists else 0
    owned = 0
    for owner_id, (synced, in_flight) in sorted(per_owner.items()):
        points = index.count(QueryFilter(owner_id=owner_id)) if exists else 0
        owned += points
        if points < synced:
            report.missing += synced - points
            report._example("missing", f"owner {owner_id}: {points} points for {synced} SYNCED chunks")
        elif points > synced + in_flight:
            report.orphans += points - synced - in_flight
            report._example("orphans", f"owner {owner_id}: {points} points for {synced} SYNCED chunks "
                                       f"and {in_flight} in the outbox")
    if report.points > owned:
        report.orphans += report.points - owned
        report._example("orphans", f"{report.points - owned} points of no owner ragbase knows")
    report.seconds = time.monotonic() - started
    return report


def record_light_check(*, index: VectorIndex | None = None) -> IndexCheck:
    """Run the light check and store its result."""
    try:
        report = light_check(index=index)
    except Exception as exc:  # the store unreachable, say: the result says so
        return _keep(IndexCheck(kind=IndexCheck.Kind.LIGHT, ok=False, summary=f"could not check: {exc}"[:2000]))
    return record_check(report, kind=IndexCheck.Kind.LIGHT)


def record_check(report: IndexReport, *, kind) -> IndexCheck:
    """Store a check's result (the newest KEEP_RESULTS are kept)."""
    examples = "; ".join(e for found in report.examples.values() for e in found)
    return _keep(IndexCheck(kind=kind, ok=report.ok, points=report.points, synced=report.synced,
                            missing=report.missing, orphans=report.orphans, seconds=report.seconds,
                            wrong_payload=report.wrong_payload if kind == IndexCheck.Kind.FULL else None,
                            summary=(examples or "consistent")[:2000]))


def _keep(result: IndexCheck) -> IndexCheck:
    result.save()
    stale = IndexCheck.objects.order_by("-checked_at").values_list("pk", flat=True)[KEEP_RESULTS:]
    IndexCheck.objects.filter(pk__in=list(stale)).delete()
    return result
