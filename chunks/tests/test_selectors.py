"""Shared reads that every search makes."""
import pytest

from chunks.models import Chunk
from chunks.selectors import chunk_hit_rows
from ragbase.testing import make_chunks, make_user

pytestmark = pytest.mark.django_db


def test_hit_rows_are_only_the_owners_chunks_with_their_document_and_pending_count():
    (document,) = make_chunks(3, owner_name="ann")
    chunk = Chunk.objects.filter(document=document).order_by("ordinal").first()
    chunk.metadata = {"page": 4, "headings": ["Intro"]}
    chunk.save()
    ids = [str(i) for i in Chunk.objects.values_list("qdrant_id", flat=True)]
    rows, pending = chunk_hit_rows(document.owner, ids + ["6f1c0c1e-0000-4000-8000-000000000000"])
    assert set(rows) == set(ids) and pending == 3  # make_chunks leaves them waiting in the outbox
    assert rows[str(chunk.qdrant_id)] == (chunk.pk, chunk.text, chunk.ordinal, {"page": 4, "headings": ["Intro"]},
                                          document.pk, document.title, document.source, document.source_id,
                                          document.mime_type, document.url)
    # The store's owner filter is the first line of isolation; this read is the second.
    assert chunk_hit_rows(make_user("bob"), ids) == ({}, 0)
