"""The Postgres ⇄ vector store check (chunks.services.index_check, `manage.py check_index`) on both
backends, its repair, and the scheduled light check (admin panel, /readyz, the owner thread)."""
import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from chunks.models import Chunk, IndexCheck, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain
from chunks.outbox.wakeup import OwnerDrainThread
from chunks.services.index_check import check_index, light_check, record_light_check
from chunks.tasks import check_index_light
from chunks.tests.outbox.test_wakeup import wait_for
from chunks.vector_index import VectorPoint
from ragbase.testing import HashEmbedder, ensured, make_chunks, stored_points, synced_chunks

pytestmark = pytest.mark.reliability  # README promise 11


def rows():
    return {c.pk: (c.sync_status, c.synced_at, c.dense_vector) for c in Chunk.objects.all()}


def inject(index):
    """A missing point, an orphan point and a point with a wrong owner; returns them."""
    lost, moved = Chunk.objects.order_by("pk")[:2]
    index.delete([str(lost.qdrant_id)])
    orphan = VectorPoint(id=str(uuid.uuid4()), dense=[0.5] * 8, sparse_indices=[1], sparse_values=[1.0],
                         payload={"owner_id": str(lost.owner_id), "document_id": lost.document_id, "source": "upload",
                                  "mime_type": "text/plain", "modified_at": 0.0})
    index.upsert([orphan])
    (point,) = [p for p in stored_points(index).values() if p.id == str(moved.qdrant_id)]
    index.set_payload([point.id], {**point.payload, "owner_id": "999"})
    return lost, moved, orphan


@pytest.fixture
def synced(vector_index_backend):
    return synced_chunks(vector_index_backend, 30, documents=2)


@pytest.mark.django_db
def test_check_index_finds_each_injected_inconsistency(synced):
    assert check_index(index=synced).ok
    lost, moved, orphan = inject(synced)
    report = check_index(index=synced, page_size=7)
    assert (report.missing, report.orphans, report.wrong_payload) == (1, 1, 1)
    assert report.points == 30 and report.synced == 30
    assert str(lost.qdrant_id) in report.examples["missing"][0]
    assert orphan.id in report.examples["orphans"][0]
    assert str(moved.qdrant_id) in report.examples["wrong_payload"][0] and "'999'" in report.examples["wrong_payload"][0]
    # A point whose chunk was just deleted waits for its tombstone: in flight, not an orphan.
    VectorDeletion.objects.create(qdrant_id=orphan.id, owner_id=lost.owner_id)
    assert check_index(index=synced).orphans == 0


@pytest.mark.django_db
def test_repair_fixes_each_inconsistency_and_touches_nothing_else(synced, monkeypatch):
    monkeypatch.setattr("chunks.services.rebuild.get_embedder", HashEmbedder)
    lost, moved, orphan = inject(synced)
    points_before, rows_before = stored_points(synced), rows()
    with pytest.raises(CommandError, match="disagree"):
        call_command("check_index", stdout=StringIO(), stderr=StringIO())
    recorded = IndexCheck.objects.get()  # the admin's panel shows the newest check, this full one
    assert recorded.kind == "full" and (recorded.missing, recorded.orphans, recorded.wrong_payload) == (1, 1, 1)
    with pytest.raises(CommandError, match="--yes"):  # no terminal: it asks, so --yes is required
        call_command("check_index", "--repair", stdout=StringIO(), stderr=StringIO())
    assert stored_points(synced) == points_before and rows() == rows_before  # refused: nothing changed
    out = StringIO()
    call_command("check_index", "--repair", "--yes", stdout=out, stderr=StringIO())
    assert "1 orphan points queued for deletion, 1 payloads rewritten, 1 chunks embedded again" in out.getvalue()
    assert check_index(index=synced).ok and not VectorDeletion.objects.exists()
    after = stored_points(synced)
    assert orphan.id not in after
    assert after[str(moved.qdrant_id)].payload["owner_id"] == str(moved.owner_id)
    assert after[str(moved.qdrant_id)].dense == points_before[str(moved.qdrant_id)].dense  # vectors kept
    assert str(lost.qdrant_id) in after  # embedded again and pushed
    lost.refresh_from_db()
    assert lost.sync_status == SyncStatus.SYNCED
    untouched = set(points_before) - {str(moved.qdrant_id), orphan.id}
    assert {i: after[i] for i in untouched} == {i: points_before[i] for i in untouched}
    rows_after = rows()
    assert {pk: r for pk, r in rows_after.items() if pk != lost.pk} == {
        pk: r for pk, r in rows_before.items() if pk != lost.pk}


@pytest.mark.django_db
def test_the_light_check_counts_per_owner(synced):
    report = light_check(index=synced)
    assert report.ok and report.points == 30 and report.synced == 30
    make_chunks(5, owner_name="bob")
    # A drain in flight: one of bob's chunks upserted, not yet marked SYNCED. Not a disagreement.
    pending = Chunk.objects.filter(owner__username="bob").first()
    synced.upsert([VectorPoint(id=str(pending.qdrant_id), dense=[0.5] * 8, sparse_indices=[1], sparse_values=[1.0],
                               payload={"owner_id": str(pending.owner_id), "document_id": pending.document_id})])
    assert light_check(index=synced).ok
    lost, moved, orphan = inject(synced)
    report = light_check(index=synced)
    # The orphan and the lost point are the same owner's and cancel out; the wrong owner shows.
    assert not report.ok and report.missing == 1 and report.orphans == 1
    assert "owner 999" not in " ".join(report.examples["missing"])
    assert "no owner ragbase knows" in report.examples["orphans"][0]


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456"))
    return client


@pytest.mark.django_db
def test_the_last_light_check_shows_in_the_admin_panel_and_readyz(vector_index, admin_client, settings):
    settings.QDRANT_URL = "http://qdrant.invalid:6333"  # server mode: the task checks itself
    ensured(vector_index)
    make_chunks(4)
    drain(index=vector_index)
    assert "never run" in admin_client.get("/admin/chunks/chunk/").content.decode()
    assert "ok" in check_index_light()
    page = admin_client.get("/admin/chunks/chunk/").content.decode()
    assert 'id="index-check"' in page and "4 points, 4 SYNCED chunks: consistent" in page
    details = admin_client.get("/readyz").json()["details"]["index_check"]
    assert details["ok"] is True and details["points"] == 4 and details["kind"] == "light"
    vector_index.delete([str(Chunk.objects.first().qdrant_id)])
    record_light_check(index=vector_index)
    page = admin_client.get("/admin/chunks/chunk/").content.decode()
    assert "disagrees" in page and "manage.py check_index" in page
    body = admin_client.get("/readyz").json()
    assert body["details"]["index_check"]["missing"] == 1 and body["status"] == "ready"  # reported, not gating
    listing = admin_client.get("/admin/chunks/indexcheck/").content.decode()
    assert listing.count('class="field-missing"') == 2
    for _ in range(60):
        record_light_check(index=vector_index)
    assert IndexCheck.objects.count() == 50


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_the_scheduled_check_runs_in_the_stores_owner(vector_index, settings):
    settings.QDRANT_URL = ""
    ensured(vector_index)
    make_chunks(3)
    thread = OwnerDrainThread(poll_seconds=300)
    thread.start()
    try:
        wait_for(lambda: thread.drains >= 1)
        assert "asked the store's owner" in check_index_light()  # what a worker's task does
        wait_for(lambda: IndexCheck.objects.exists())
    finally:
        thread.stop()
    result = IndexCheck.objects.get()
    assert result.ok and result.points == 3 and result.synced == 3


@pytest.mark.django_db
def test_the_light_check_is_a_schedule_of_its_own_interval(settings):
    from django_q.models import Schedule

    from chunks.tasks import ensure_schedules

    schedule = Schedule.objects.get(name="vector store check")
    assert schedule.func == "chunks.tasks.check_index_light" and schedule.minutes == settings.INDEX_CHECK_MINUTES
    from django.utils import timezone

    assert schedule.next_run > timezone.now()  # not at once: a fresh installation's workers have the first sync to do
    settings.INDEX_CHECK_MINUTES = 0
    ensure_schedules()
    assert not Schedule.objects.filter(name="vector store check").exists()


@pytest.mark.django_db
def test_a_shorter_interval_takes_effect_at_the_next_migrate(settings):
    """An operator who lowers INDEX_CHECK_MINUTES from 60 to 1 gets a check within a minute,
    not after the hour the schedule had already planned."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Schedule

    from chunks.tasks import ensure_schedules

    # From a schedule planned an hour out now (not the one the test database's migrate made).
    Schedule.objects.filter(name="vector store check").delete()
    settings.INDEX_CHECK_MINUTES = 60
    ensure_schedules()
    assert Schedule.objects.get(name="vector store check").next_run > timezone.now() + timedelta(minutes=59)
    settings.INDEX_CHECK_MINUTES = 1
    ensure_schedules()
    schedule = Schedule.objects.get(name="vector store check")
    assert schedule.minutes == 1 and schedule.next_run <= timezone.now() + timedelta(minutes=1)
