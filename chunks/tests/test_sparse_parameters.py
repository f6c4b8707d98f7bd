"""BM25's parameters (SPARSE_BM25_K1, _B, _AVG_LEN) shape the stored sparse vectors, so they are
part of the embedder's model_id: a collection made with others is refused until `reindex`, and
`manage.py check` names the mismatch."""
import json

import pytest
from django.core.checks import run_checks

import chunks.embedding
from chunks.embedding import configured_model_id
from chunks.embedding.hybrid import HybridEmbedder
from chunks.embedding.identity import Bm25Parameters, embedder_model_id
from chunks.vector_index import CollectionMismatch, ensure_index_ready
from chunks.vector_index.qdrant_edge import EdgeVectorIndex

DENSE = "ragbase/all-MiniLM-L6-v2-int8"
LEGACY_MODEL_ID = f"dense={DENSE};sparse=Qdrant/bm25"  # what collections recorded before these settings


def test_the_model_id_names_bm25_parameters_other_than_fastembeds_defaults():
    assert embedder_model_id(dense_model=DENSE, sparse_model="Qdrant/bm25", bm25=Bm25Parameters()) == LEGACY_MODEL_ID
    tuned = embedder_model_id(dense_model=DENSE, sparse_model="Qdrant/bm25",
                              bm25=Bm25Parameters(k1=0.9, b=0.75, avg_len=80))
    assert tuned == f"dense={DENSE};sparse=Qdrant/bm25(k1=0.9,b=0.75,avg_len=80)"
    assert embedder_model_id(dense_model=DENSE, sparse_model="Qdrant/bm25",
                             bm25=Bm25Parameters(k1=0.9, b=0.75, avg_len=81)) != tuned
    # A sparse model that is not BM25 reads none of them.
    assert embedder_model_id(dense_model=DENSE, sparse_model="prithivida/Splade_PP_en_v1",
                             bm25=Bm25Parameters(avg_len=80)) == f"dense={DENSE};sparse=prithivida/Splade_PP_en_v1"


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """An embedder whose BM25 has other parameters than fastembed's defaults."""
    return HybridEmbedder(dense_model=DENSE, sparse_model="Qdrant/bm25", models_dir=tmp_path_factory.mktemp("models"),
                          bm25=Bm25Parameters(k1=0.9, b=0.75, avg_len=80))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    return HybridEmbedder(dense_model=DENSE, sparse_model="Qdrant/bm25", models_dir=tmp_path_factory.mktemp("models"),
                          bm25=Bm25Parameters())


def test_the_embedder_scores_terms_with_its_bm25_parameters(tuned):
    assert tuned.model_id == f"dense={DENSE};sparse=Qdrant/bm25(k1=0.9,b=0.75,avg_len=80)"
    # A document exactly avg_len terms long: BM25's length factor is 1, so a term seen once weighs
    # (k1 + 1) / (1 + k1) = 1 whatever k1 and b are.
    words = [f"term{i}x" for i in range(80)]
    assert len(tuned.sparse_terms(" ".join(words))) == 80
    (vector,) = tuned.embed_documents([" ".join(words)])
    assert vector["sparse"]["values"] == pytest.approx([1.0] * 80)
    # Half as long: the term weighs more (k1 0.9, b 0.75: 1.9 / (1 + 0.9 * 0.625)).
    (short,) = tuned.embed_documents([" ".join(words[:40])])
    assert short["sparse"]["values"] == pytest.approx([1.9 / (1 + 0.9 * 0.625)] * 40)


def test_other_parameters_change_the_documents_vectors_not_the_queries(tuned, legacy):
    text = "Statins lower LDL cholesterol in patients with heart disease; statins are cheap."
    ours, theirs = tuned.embed_documents([text])[0]["sparse"], legacy.embed_documents([text])[0]["sparse"]
    assert ours["indices"] == theirs["indices"] and ours["values"] != pytest.approx(theirs["values"])
    assert tuned.embed_query(text)["sparse"] == legacy.embed_query(text)["sparse"]
    assert legacy.model_id == LEGACY_MODEL_ID != tuned.model_id


def test_the_process_embedder_is_built_from_the_settings(embedder):
    assert embedder.model_id == configured_model_id()


def test_a_collection_made_with_other_bm25_parameters_is_refused(tuned, legacy, tmp_path, monkeypatch):
    made = EdgeVectorIndex(path=tmp_path, collection="c")
    made.ensure_collection(dense_dim=legacy.dense_dim, model_id=legacy.model_id)
    made.close()
    monkeypatch.setattr(chunks.embedding, "_embedder", tuned)  # what get_embedder() gives the index
    index = EdgeVectorIndex(path=tmp_path, collection="c")
    try:
        with pytest.raises(CollectionMismatch, match="reindex"):
            ensure_index_ready(index)
    finally:
        index.close()


@pytest.mark.parametrize(("name", "value"), [("SPARSE_BM25_K1", -0.1), ("SPARSE_BM25_B", 1.5),
                                             ("SPARSE_BM25_AVG_LEN", 0.0)])
def test_bm25_parameters_out_of_range_are_check_errors(settings, name, value):
    assert "chunks.E001" not in [m.id for m in run_checks()]
    setattr(settings, name, value)
    (error,) = [m for m in run_checks() if m.id == "chunks.E001"]
    assert name in error.msg


def test_bm25_parameters_set_for_another_sparse_model_are_named(settings, monkeypatch):
    monkeypatch.setenv("SPARSE_BM25_AVG_LEN", "80")
    assert "chunks.W001" not in [m.id for m in run_checks()]
    settings.SPARSE_MODEL = "prithivida/Splade_PP_en_v1"
    (warning,) = [m for m in run_checks() if m.id == "chunks.W001"]
    assert "SPARSE_BM25_AVG_LEN" in warning.msg


def test_check_names_an_embedded_collection_of_other_vectors(settings, tmp_path):
    settings.QDRANT_URL, settings.QDRANT_PATH, settings.QDRANT_COLLECTION = "", tmp_path, "kb"
    assert "chunks.W002" not in [m.id for m in run_checks()]  # no collection yet
    spec = tmp_path / "kb.json"
    spec.write_text(json.dumps({"dense_dim": 384, "model_id": configured_model_id()}))
    assert "chunks.W002" not in [m.id for m in run_checks()]
    other = embedder_model_id(dense_model=settings.DENSE_MODEL, sparse_model="Qdrant/bm25",
                              bm25=Bm25Parameters(k1=2.0, b=0.5, avg_len=120))
    spec.write_text(json.dumps({"dense_dim": 384, "model_id": other}))
    (warning,) = [m for m in run_checks() if m.id == "chunks.W002"]
    assert other in warning.msg and "reindex" in warning.hint
    settings.SPARSE_BM25_K1, settings.SPARSE_BM25_B, settings.SPARSE_BM25_AVG_LEN = 2.0, 0.5, 120
    assert "chunks.W002" not in [m.id for m in run_checks()]  # the settings those vectors were made with
