"""The VectorIndex contract, run against both backends (embedded qdrant-edge; qdrant-client local
mode standing in for a server) and against the embedded engine reached through its owner's link,
as the web server's worker processes reach it."""
import math
import random
import uuid
from datetime import datetime, timezone

import pytest

from chunks.vector_index import CollectionMismatch, Fusion, FusionMethod, QueryFilter, SearchMode, VectorPoint
from ragbase.testing import TEST_DENSE_DIM, TEST_MODEL_ID, build_test_index, ensured, installed_index

DIM = TEST_DENSE_DIM


def unit(values):
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def point(*, owner=1, document=10, source="upload", mime="text/plain", modified=1000.0, dense=None, sparse=(1,)):
    return VectorPoint(
        id=str(uuid.uuid4()),
        dense=dense or unit([random.random() + 0.01 for _ in range(DIM)]),
        sparse_indices=list(sparse),
        sparse_values=[1.0] * len(sparse),
        payload={"owner_id": str(owner), "document_id": document, "source": source, "mime_type": mime,
                 "modified_at": modified},
    )


@pytest.fixture(params=["embedded", "server", "linked"])
def index(request, tmp_path):
    with installed_index(build_test_index(request.param, tmp_path / request.param)) as index:
        yield ensured(index)


def test_ensure_is_idempotent_and_a_mismatch_is_reported_not_overwritten(index):
    index.upsert([point()])
    index.ensure_collection(dense_dim=DIM, model_id=TEST_MODEL_ID)
    with pytest.raises(CollectionMismatch, match="dense_dim=8"):
        index.ensure_collection(dense_dim=DIM + 1, model_id=TEST_MODEL_ID)
    with pytest.raises(CollectionMismatch, match="other-model"):
        index.ensure_collection(dense_dim=DIM, model_id="other-model")
    assert index.count() == 1


def test_upsert_is_idempotent_and_delete_ignores_unknown_ids(index):
    a, b, c = point(document=1), point(document=1), point(document=2)
    index.upsert([a, b, c])
    index.upsert([a, b])
    assert index.count() == 3
    index.delete([a.id, str(uuid.uuid4())])
    assert index.count() == 2
    assert index.count(QueryFilter(owner_id=1, document_ids=[1])) == 1


RRF_60 = Fusion.parse("rrf:60")


def ids(hits):
    return {h.id for h in hits}


def search(index, flt, *, mode=SearchMode.HYBRID, dense=None, sparse=(1,)):
    return index.query(
        query_filter=flt, dense=dense or unit([1.0] * DIM), sparse_indices=list(sparse),
        sparse_values=[1.0] * len(sparse), mode=mode, limit=50, prefetch_limit=50, fusion=RRF_60,
    )


def test_filters_isolate_owners_and_select_document_source_mime_and_date(index):
    mine = point(owner=1, document=1, source="drive", mime="application/pdf", modified=2000.0)
    mine_old = point(owner=1, document=2, source="upload", mime="text/plain", modified=500.0)
    theirs = point(owner=2, document=3)
    index.upsert([mine, mine_old, theirs])
    for mode in SearchMode:
        assert ids(search(index, QueryFilter(owner_id=1), mode=mode)) == {mine.id, mine_old.id}
        assert ids(search(index, QueryFilter(owner_id=2), mode=mode)) == {theirs.id}
    assert ids(search(index, QueryFilter(owner_id=1, document_ids=[2]))) == {mine_old.id}
    assert ids(search(index, QueryFilter(owner_id=1, sources=["drive"]))) == {mine.id}
    assert ids(search(index, QueryFilter(owner_id=1, mime_types=["text/plain"]))) == {mine_old.id}
    after = datetime.fromtimestamp(1000, tz=timezone.utc)
    assert ids(search(index, QueryFilter(owner_id=1, modified_after=after))) == {mine.id}
    assert index.count(QueryFilter(owner_id=2)) == 1 and index.count() == 3


def test_hybrid_fuses_both_legs(index):
    dense_only = point(dense=unit([1.0] + [0.0] * (DIM - 1)), sparse=(99,))
    sparse_only = point(dense=unit([0.0] * (DIM - 1) + [1.0]), sparse=(7,))
    index.upsert([dense_only, sparse_only])
    query = dict(dense=unit([1.0] + [0.0] * (DIM - 1)), sparse=(7,))
    flt = QueryFilter(owner_id=1)
    assert search(index, flt, mode=SearchMode.DENSE, **query)[0].id == dense_only.id
    sparse_hits = search(index, flt, mode=SearchMode.SPARSE, **query)
    assert ids(sparse_hits) == {sparse_only.id}
    hybrid = search(index, flt, **query)
    assert ids(hybrid) == {dense_only.id, sparse_only.id}


def test_every_hit_carries_its_document_in_every_mode(index):
    points = [point(document=d) for d in (4, 4, 9)]
    index.upsert(points)
    documents = {p.id: p.payload["document_id"] for p in points}
    for mode in SearchMode:
        for leg_ranks in (False, True):
            hits = index.query(query_filter=QueryFilter(owner_id=1), dense=unit([1.0] * DIM), sparse_indices=[1],
                               sparse_values=[1.0], mode=mode, limit=10, prefetch_limit=10, fusion=Fusion.parse("rrf:60"),
                               leg_ranks=leg_ranks)
            assert {h.id: h.document_id for h in hits} == documents


FUSIONS = ["rrf:60", "rrf:2", "rrf:10:1,0.25", "rrf:10:0.5,2", "dbsf"]


def mixed_points(count=30, seed=3):
    """Points with sparse terms 1-3 in some only: some hits are in one leg and not the other."""
    rng = random.Random(seed)
    return [point(dense=unit([rng.random() + 0.01 for _ in range(DIM)]), sparse=rng.sample(range(1, 12), 2))
            for _ in range(count)]


LEG_QUERY = dict(query_filter=QueryFilter(owner_id=1), dense=unit([1.0] * DIM), sparse_indices=[1, 2, 3],
                 sparse_values=[1.0, 0.7, 0.4])


def fused_by_formula(fusion, legs):
    """What `fusion` makes of the single-leg hits `legs` (dense, sparse), by Qdrant's formulas."""
    scores = {}
    for leg, hits in enumerate(legs):
        if fusion.method == FusionMethod.RRF:
            weight = fusion.weights[leg] if fusion.weights else 1.0
            leg_scores = {h.id: 1 / (fusion.k - 1 + rank / weight) for rank, h in enumerate(hits, 1)}
        else:  # DBSF: scores mapped from mean ± 3 sample standard deviations to 0..1
            values = [h.score for h in hits]
            mean = sum(values) / len(values)
            spread = 3 * math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
            leg_scores = {h.id: (h.score - mean + spread) / (2 * spread) for h in hits}
        for point_id, score in leg_scores.items():
            scores[point_id] = scores.get(point_id, 0.0) + score
    return scores


@pytest.mark.parametrize("spelling", FUSIONS)
def test_each_fusion_merges_the_legs_by_its_formula(index, spelling):
    index.upsert(mixed_points())
    fusion, depth = Fusion.parse(spelling), 8
    legs = [index.query(mode=mode, limit=depth, prefetch_limit=depth, fusion=fusion, **LEG_QUERY)
            for mode in (SearchMode.DENSE, SearchMode.SPARSE)]
    expected = fused_by_formula(fusion, legs)
    hybrid = index.query(mode=SearchMode.HYBRID, limit=30, prefetch_limit=depth, fusion=fusion, **LEG_QUERY)
    # Every candidate of either leg, each with the formula's score, best first (ties in either order).
    assert {h.id for h in hybrid} == set(expected)
    assert all(h.score == pytest.approx(expected[h.id], rel=1e-4) for h in hybrid)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_the_fusions_rank_differently(index):
    """Leg weights and DBSF change the order (else the formula test above could not tell them apart)."""
    index.upsert(mixed_points())
    orders = {tuple(h.id for h in index.query(mode=SearchMode.HYBRID, limit=10, prefetch_limit=8,
                                              fusion=Fusion.parse(spelling), **LEG_QUERY))
              for spelling in ("rrf:10", "rrf:10:1,0.25", "rrf:10:0.5,2", "dbsf")}
    assert len(orders) == 4


@pytest.mark.parametrize("spelling", FUSIONS)
def test_leg_ranks_are_the_ranks_of_single_leg_queries_of_the_prefetch_depth(index, spelling):
    index.upsert(mixed_points())
    fusion, depth = Fusion.parse(spelling), 8
    query = dict(limit=depth, prefetch_limit=depth, fusion=fusion, **LEG_QUERY)
    dense = [h.id for h in index.query(mode=SearchMode.DENSE, **query)]
    sparse = [h.id for h in index.query(mode=SearchMode.SPARSE, **query)]
    hybrid = index.query(mode=SearchMode.HYBRID, **{**query, "limit": 30}, leg_ranks=True)
    plain = index.query(mode=SearchMode.HYBRID, **{**query, "limit": 30})
    # The legs merged here, as the engine's own fused query merges them: the same hits and scores
    # (the engine's are 32-bit floats; equal scores may come in either order).
    assert {h.id: h.score for h in hybrid} == pytest.approx({h.id: h.score for h in plain}, rel=1e-5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)
    assert {h.dense_rank is None for h in hybrid} == {h.sparse_rank is None for h in hybrid} == {True, False}
    for hit in hybrid:
        assert hit.dense_rank == (dense.index(hit.id) + 1 if hit.id in dense else None)
        assert hit.sparse_rank == (sparse.index(hit.id) + 1 if hit.id in sparse else None)
    single = index.query(mode=SearchMode.SPARSE, **query, leg_ranks=True)
    assert [(h.sparse_rank, h.dense_rank) for h in single] == [(r, None) for r in range(1, len(sparse) + 1)]


@pytest.mark.parametrize("spelling", ["dbsf", "rrf:60"])
def test_legs_merged_with_ranks_score_as_the_fused_query_when_a_leg_has_one_hit_or_equal_scores(index, spelling):
    same_direction = unit([1.0] * DIM)
    index.upsert([point(dense=same_direction, sparse=(5,)), point(dense=same_direction, sparse=(6,)),
                  point(dense=same_direction, sparse=(6,))])
    query = dict(query_filter=QueryFilter(owner_id=1), dense=same_direction, sparse_indices=[5], sparse_values=[1.0],
                 mode=SearchMode.HYBRID, limit=10, prefetch_limit=10, fusion=Fusion.parse(spelling))
    with_ranks, plain = index.query(**query, leg_ranks=True), index.query(**query)
    assert {h.id: h.score for h in with_ranks} == pytest.approx({h.id: h.score for h in plain}, rel=1e-5)
    assert sorted(h.sparse_rank is not None for h in with_ranks) == [False, False, True]


def test_health_is_ok_and_counts_points(index):
    index.upsert([point(), point()])
    health = index.health()
    assert health.ok and health.points == 2 and health.backend


def test_dense_vectors_are_stored_as_float16_and_points_keep_their_own_payload(index):
    from chunks.vector_index.qdrant_edge import EdgeVectorIndex

    engine = getattr(index, "owned", index)  # through the link: the owner's engine holds the files
    if isinstance(engine, EdgeVectorIndex):
        import json

        datatype = json.loads((engine.shard_path / "edge_config.json").read_text())["vectors"]["dense"]["datatype"]
    else:
        datatype = index.client.get_collection(index.collection).config.params.vectors["dense"].datatype
    assert str(getattr(datatype, "value", datatype)) == "float16"
    # One upsert mixing documents and owners: each point is found under its own payload only.
    points = [point(owner=o, document=d) for o in (1, 2) for d in (10, 11) for _ in range(3)]
    index.upsert(points)
    for o in (1, 2):
        for d in (10, 11):
            assert index.count(QueryFilter(owner_id=o, document_ids=[d])) == 3
    assert index.count(QueryFilter(owner_id=3)) == 0


def scroll_all(index, *, limit, with_vectors):
    points, offset, pages = [], None, 0
    while True:
        page, offset = index.scroll(offset=offset, limit=limit, with_vectors=with_vectors)
        points += page
        pages += 1
        if offset is None:
            return points, pages


def test_scroll_pages_through_every_point_once_with_vectors_and_payloads(index):
    written = {p.id: p for p in (point(owner=o, document=o * 10, sparse=(3, 9)) for o in (1, 2) for _ in range(5))}
    index.upsert(list(written.values()))
    read, pages = scroll_all(index, limit=3, with_vectors=True)
    assert pages == 4 and len(read) == 10 and {p.id for p in read} == set(written)
    assert [p.id for p in read] == sorted(p.id for p in read)  # id order: pages are id ranges
    for p in read:
        original = written[p.id]
        assert p.payload == original.payload
        assert list(p.sparse_indices) == [3, 9] and list(p.sparse_values) == [1.0, 1.0]
        # Stored as float16 (and normalised, which `unit` already is).
        assert all(abs(a - b) < 1e-3 for a, b in zip(p.dense, original.dense)) and len(p.dense) == DIM
    bare, _ = scroll_all(index, limit=100, with_vectors=False)
    assert {p.id for p in bare} == set(written) and all(len(p.dense) == 0 and p.payload for p in bare)


def test_existing_ids_and_set_payload_keep_vectors_and_ignore_unknown_ids(index):
    a, b = point(owner=1, document=1), point(owner=1, document=1)
    index.upsert([a, b])
    unknown = str(uuid.uuid4())
    assert index.existing_ids([a.id, unknown]) == {a.id} and index.existing_ids([]) == set()
    moved = {**a.payload, "owner_id": "2", "document_id": 7}
    index.set_payload([a.id, unknown], moved)
    (read,) = [p for p in scroll_all(index, limit=10, with_vectors=True)[0] if p.id == a.id]
    assert read.payload == moved and len(read.dense) == DIM
    assert index.count(QueryFilter(owner_id=2, document_ids=[7])) == 1 and index.count() == 2


def test_recorded_spec_names_what_the_collection_was_made_for(index):
    assert index.recorded_spec() == {"dense_dim": DIM, "model_id": TEST_MODEL_ID}
    index.drop_collection()
    assert index.recorded_spec() is None
