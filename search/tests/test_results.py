"""Results grouped by document, and why each matched, on both backends (both read the store)."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chunks.models import Chunk
from ragbase.testing import add_text_document
from search.grouping import group_by_document
from search.services import SearchHit, search, search_documents

pytestmark = pytest.mark.django_db

VOLCANO_NOTES = [
    "Volcano eruption ash fell on the town. Lava flows from the volcano crater. Farmers left the valley.",
    "An eruption of the volcano was predicted by sensors. Eruption warnings went out. Schools closed early.",
    "Volcano tourism grows after an eruption. Guides show the ash fields. Hotels fill in summer.",
    "The eruption ended quickly. Ash clouds from the volcano drifted east. Flights resumed soon.",
]


@pytest.fixture
def volcano_notes(vector_index_backend, embedder, make_user, settings):
    """Four documents of three chunks each, all about a volcano, on each backend."""
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 8, 0
    ann = make_user("ann")
    for i, text in enumerate(VOLCANO_NOTES):
        add_text_document(ann, text, title=f"Volcano {i}")
    return ann


def first_seen_documents(hits):
    return list(dict.fromkeys(h.document_id for h in hits))


def test_documents_come_once_ranked_by_their_best_chunk_with_passages_in_rank_order(volcano_notes):
    ranked = search(user=volcano_notes, query="volcano eruption ash", top_k=100).hits
    assert len(ranked) > len(VOLCANO_NOTES)  # several chunks of a document match
    result = search_documents(user=volcano_notes, query="volcano eruption ash", page_size=10, more_passages=2)
    assert [d.best.document_id for d in result.documents] == first_seen_documents(ranked)
    assert result.count == len(VOLCANO_NOTES) and result.next_page is None
    for document in result.documents:
        own = [h.chunk_id for h in ranked if h.document_id == document.best.document_id]
        assert [p.chunk_id for p in document.passages] == own[:3]
        assert all(p.document_id == document.best.document_id for p in document.passages)
        assert "<mark>" in document.best.snippet


def test_pages_of_documents_never_repeat_a_document(volcano_notes):
    order = first_seen_documents(search(user=volcano_notes, query="volcano eruption", top_k=100).hits)
    first = search_documents(user=volcano_notes, query="volcano eruption", page_size=3, more_passages=1)
    second = search_documents(user=volcano_notes, query="volcano eruption", page=2, page_size=3, more_passages=1)
    page_one, page_two = ([d.best.document_id for d in r.documents] for r in (first, second))
    assert len(set(page_one)) == len(page_one) == 3 and page_two == order[3:] and page_one == order[:3]
    assert (first.next_page, second.next_page, first.count, second.count) == (2, None, 4, 4)
    assert search_documents(user=volcano_notes, query="volcano eruption", page=3, page_size=3).documents == []


def test_a_page_reads_only_the_passages_it_shows(volcano_notes):
    with CaptureQueriesContext(connection) as queries:
        result = search_documents(user=volcano_notes, query="volcano eruption", page_size=2, more_passages=1)
    shown = [p.chunk_id for d in result.documents for p in d.passages]
    read = next(q["sql"] for q in queries.captured_queries if "c.text" in q["sql"])
    assert len(shown) == 4 and len(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-", read)) == len(shown)
    assert result.count == len(VOLCANO_NOTES)


def test_a_point_whose_chunk_is_gone_leaves_no_hole_in_the_page(volcano_notes):
    before = search_documents(user=volcano_notes, query="volcano eruption", page_size=2, more_passages=1)
    gone = before.documents[0].best
    # The row goes, the point stays (as when a delete still waits in the outbox).
    Chunk.objects.filter(pk=gone.chunk_id).delete()
    after = search_documents(user=volcano_notes, query="volcano eruption", page_size=2, more_passages=1)
    passages = [p.chunk_id for d in after.documents for p in d.passages]
    assert gone.chunk_id not in passages and len(after.documents) == 2 and after.dropped_stale >= 1
    assert all(len(d.passages) == 2 for d in after.documents)


def test_each_hit_carries_its_rank_in_each_leg_as_single_leg_searches_rank_it(volcano_notes):
    query = "volcano ash clouds"
    # 8 candidates per leg of 12 chunks: some hits are in one leg only.
    dense, sparse = ([h.chunk_id for h in search(user=volcano_notes, query=query, mode=mode, top_k=8).hits]
                     for mode in ("dense", "sparse"))
    hits = search(user=volcano_notes, query=query, top_k=8, prefetch_limit=8).hits
    assert any(h.dense_rank is None or h.sparse_rank is None for h in hits)
    for hit in hits:
        assert hit.dense_rank == (dense.index(hit.chunk_id) + 1 if hit.chunk_id in dense else None)
        assert hit.sparse_rank == (sparse.index(hit.chunk_id) + 1 if hit.chunk_id in sparse else None)
    ash = next(h for h in hits if "Ash clouds" in h.text)
    assert ash.matched_words == ["ash", "clouds", "volcano"] and ash.sparse_rank == 1
    # Grouped passages carry the ranks of the deeper list they were grouped from.
    deep = {h.chunk_id: (h.dense_rank, h.sparse_rank) for h in search(user=volcano_notes, query=query, top_k=100).hits}
    passages = [p for d in search_documents(user=volcano_notes, query=query, more_passages=2).documents for p in d.passages]
    assert passages and all((p.dense_rank, p.sparse_rank) == deep[p.chunk_id] for p in passages)


def test_group_by_document_keeps_first_seen_order_and_caps_passages():
    def hit(chunk_id, document_id):
        return SearchHit(chunk_id=chunk_id, document_id=document_id, score=0.0, text="", snippet="", title="",
                         source="", source_id="", mime_type="", url="", page=None, ordinal=0)

    groups = group_by_document([hit(1, 7), hit(2, 8), hit(3, 7), hit(4, 7), hit(5, 9), hit(6, 8)], more_passages=1)
    assert [(g.best.chunk_id, [m.chunk_id for m in g.more]) for g in groups] == [(1, [3]), (2, [6]), (5, [])]

