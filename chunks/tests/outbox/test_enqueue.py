import pytest

from chunks.models import Chunk, Document, VectorDeletion
from chunks.outbox.enqueue import delete_chunks, delete_document
from ragbase.testing import make_document, make_user


@pytest.fixture
def document(db):
    owner = make_user("ann")
    doc = make_document(owner, source_id="a", title="A")
    Chunk.objects.bulk_create([Chunk(document=doc, owner=owner, ordinal=i, text=f"t{i}") for i in range(3)])
    return doc


def test_deleting_chunks_queues_each_point_for_deletion(document):
    ids = set(Chunk.objects.values_list("qdrant_id", flat=True))
    assert delete_chunks(chunks=Chunk.objects.filter(document=document, ordinal__lt=2)) == 2
    queued = set(VectorDeletion.objects.values_list("qdrant_id", flat=True))
    remaining = set(Chunk.objects.values_list("qdrant_id", flat=True))
    assert len(queued) == 2 and queued | remaining == ids and not queued & remaining
    assert set(VectorDeletion.objects.values_list("document_id", flat=True)) == {document.pk}


def test_deleting_a_document_removes_it_and_queues_all_its_points(document):
    ids = set(Chunk.objects.values_list("qdrant_id", flat=True))
    delete_document(document=document)
    assert not Document.objects.exists() and not Chunk.objects.exists()
    assert set(VectorDeletion.objects.values_list("qdrant_id", flat=True)) == ids
