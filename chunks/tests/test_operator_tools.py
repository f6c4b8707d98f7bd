"""Operator tools: admin health and retry, sync_qdrant, outbox_status, reindex."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from chunks.models import Chunk, SyncStatus
from chunks.services.rebuild import rebuild_collection
from chunks.tests.outbox.faulty_index import stored_ids
from ragbase.testing import TEST_DENSE_DIM, HashEmbedder, ensured, make_chunks


@pytest.fixture
def admin_client_logged_in(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_chunk_changelist_shows_outbox_health_and_retry_requeues_failed(admin_client_logged_in):
    make_chunks(4)
    Chunk.objects.filter(ordinal__lt=2).update(sync_status=SyncStatus.FAILED, last_sync_error="Bad request: boom",
                                                sync_attempts=8)
    page = admin_client_logged_in.get("/admin/chunks/chunk/").content.decode()
    assert 'id="outbox-health"' in page and "FAILED 2" in page and "PENDING 2" in page
    assert "Bad request: boom" in page
    ids = list(Chunk.objects.values_list("pk", flat=True))
    response = admin_client_logged_in.post(
        "/admin/chunks/chunk/", {"action": "retry_failed_chunks", "_selected_action": ids}, follow=True
    )
    assert "2 failed chunk(s) queued again" in response.content.decode()
    assert Chunk.objects.filter(sync_status=SyncStatus.PENDING, sync_attempts=0).count() == 4


@pytest.mark.django_db
def test_chunk_page_summarises_staged_vectors_and_shows_no_numbers(admin_client_logged_in):
    make_chunks(2)
    pending, synced = Chunk.objects.order_by("ordinal")
    Chunk.objects.filter(pk=synced.pk).update(sync_status=SyncStatus.SYNCED, dense_vector=None,
                                              sparse_indices=None, sparse_values=None)
    page = admin_client_logged_in.get(f"/admin/chunks/chunk/{pending.pk}/change/").content.decode()
    assert f"dense {TEST_DENSE_DIM}d, sparse 3 terms" in page
    assert repr(pending.dense_vector[0]) not in page
    page = admin_client_logged_in.get(f"/admin/chunks/chunk/{synced.pk}/change/").content.decode()
    assert "none (in the vector store)" in page


@pytest.mark.django_db
def test_document_retry_action_requeues_its_failed_chunks(admin_client_logged_in):
    (doc,) = make_chunks(3)
    Chunk.objects.update(sync_status=SyncStatus.FAILED)
    admin_client_logged_in.post("/admin/chunks/document/", {"action": "retry_failed_document_chunks",
                                                            "_selected_action": [doc.pk]})
    assert Chunk.objects.filter(sync_status=SyncStatus.PENDING).count() == 3


@pytest.mark.django_db
def test_sync_qdrant_drains_everything_now_and_outbox_status_reports(vector_index):
    ensured(vector_index)
    make_chunks(30)
    from django.utils import timezone

    Chunk.objects.filter(ordinal__lt=5).update(next_attempt_at=timezone.now() + timezone.timedelta(hours=1))
    out = StringIO()
    call_command("sync_qdrant", stdout=out, stderr=StringIO())
    assert "synced 30 chunks" in out.getvalue()
    assert vector_index.count() == 30
    status = StringIO()
    call_command("outbox_status", stdout=status)
    assert "SYNCED   30" in status.getvalue() and "oldest PENDING: -" in status.getvalue()


@pytest.mark.django_db
def test_reindex_rebuilds_the_collection_from_chunk_text(vector_index_backend):
    index = ensured(vector_index_backend)
    make_chunks(20)
    from chunks.outbox.drain import drain

    drain(index=index)
    index.drop_collection()  # the store lost everything; SYNCED chunks have no vectors left
    result = rebuild_collection(embedder=HashEmbedder(), index=index, batch_size=7)
    assert result.synced == 20
    assert stored_ids(index) == {str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}
    assert not Chunk.objects.filter(dense_vector__isnull=False).exists()


@pytest.mark.django_db
def test_optimize_index_keeps_every_point_and_answer(vector_index_backend):
    from chunks.outbox.drain import drain
    from chunks.vector_index import Fusion, QueryFilter, SearchMode

    index = ensured(vector_index_backend)
    make_chunks(300)
    drain(index=index)
    probe = dict(query_filter=QueryFilter(owner_id=Chunk.objects.first().owner_id), dense=[0.5] * TEST_DENSE_DIM,
                 sparse_indices=[1000], sparse_values=[1.0], mode=SearchMode.HYBRID, limit=10, prefetch_limit=50,
                 fusion=Fusion.parse("rrf:60"))
    before = index.query(**probe)
    out = StringIO()
    call_command("optimize_index", stdout=out)
    if vector_index_backend.backend_name.startswith("embedded"):
        assert "300 points: segments" in out.getvalue()
    else:
        assert "nothing to do" in out.getvalue()
    assert index.count() == 300 and [h.id for h in index.query(**probe)] == [h.id for h in before]


@pytest.mark.django_db
def test_reindex_states_the_estimated_time_and_asks_first(vector_index, monkeypatch):
    from django.core.management.base import CommandError

    from chunks.outbox.drain import drain

    monkeypatch.setattr("chunks.services.rebuild.get_embedder", HashEmbedder)
    index = ensured(vector_index)
    make_chunks(12)
    drain(index=index)
    with pytest.raises(CommandError, match=r"12 chunks to embed again: about \d+ s at [\d.]+ chunks/s .*--yes"):
        call_command("reindex", stdout=StringIO(), stderr=StringIO())  # no terminal to answer: refused
    assert index.count() == 12 and Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 12
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("reindex", stdout=StringIO(), stderr=StringIO())
    assert index.count() == 12
    out = StringIO()
    call_command("reindex", "--yes", stdout=out, stderr=StringIO())
    assert "reindexed 12 chunks: 12 synced" in out.getvalue()
