import json
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from chunks.models import Chunk, Document
from search.evaluation.beir import judged_queries
from search.evaluation.ranking import rank_documents
from search.evaluation.scoring import score_runs
from search.management.commands import evaluate as evaluate_command


def test_chunk_hits_rank_each_document_once_at_its_first_rank():
    ranking = rank_documents(["d2", "d1", "d2", "q7", "d3"], exclude_id="q7")
    assert sorted(ranking, key=ranking.get, reverse=True) == ["d2", "d1", "d3"]


def test_scores_are_the_standard_measures():
    qrels = {"q1": {"d1": 1}, "q2": {"d9": 1}}
    runs = {"q1": {"d1": 3.0, "d2": 2.0}, "q2": {"d2": 3.0, "d9": 2.0}}
    scores = score_runs(runs, qrels, mode="hybrid", seconds=1.0)
    assert scores.mrr_at_10 == pytest.approx((1 + 0.5) / 2)
    assert scores.recall_at_100 == 1.0 and 0.5 < scores.ndcg_at_10 < 1.0


@pytest.mark.slow
def test_evaluate_command_on_a_tiny_beir_dataset(transactional_db, embedder, tmp_path, capsys, django_user_model,
                                                 monkeypatch):
    docs = {
        "d1": ("Statins", "Statins lower LDL cholesterol in adults."),
        "d2": ("Vitamin D", "Sunlight exposure produces vitamin D in the skin."),
        "d3": ("Fault code", "Error XQ7731 means the flash memory is worn."),
    }
    (tmp_path / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in docs.items())
    )
    (tmp_path / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": q, "text": t}) for q, t in [("q1", "cholesterol drugs"), ("q2", "XQ7731")])
    )
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    django_user_model.objects.create_user("someone-else")

    call_command("evaluate", "--fusion", "rrf:60", "--fusion", "rrf:2:1,0.5", "--fusion", "dbsf", "--keep",
                 dataset=str(tmp_path), verbosity=0)

    out = capsys.readouterr().out
    rows = {" ".join(line.split()[:-4]): line.split()[-4:] for line in out.splitlines()
            if line.startswith(("hybrid", "dense", "sparse"))}
    # One row per fusion, then each single leg once.
    assert list(rows) == ["hybrid rrf:60", "hybrid rrf:2:1,0.5", "hybrid dbsf", "dense", "sparse"]
    assert all(float(rows[label][2]) == 1.0 for label in rows if label.startswith("hybrid"))  # MRR@10
    # The evaluation ran in its own database: the product's data is untouched.
    assert list(django_user_model.objects.values_list("username", flat=True)) == ["someone-else"]
    kept = settings.VAR_DIR / "eval-qdrant" / f"eval_{tmp_path.name}"
    assert kept.exists() and database_exists(f"ragbase_eval_{tmp_path.name}")
    # A kept collection of other vectors (other models or BM25 parameters) is not searched with these.
    monkeypatch.setattr(evaluate_command, "get_embedder", lambda: SimpleNamespace(
        dense_dim=embedder.dense_dim, model_id=embedder.model_id + "(other)"))
    with pytest.raises(CommandError, match="--drop"):
        call_command("evaluate", "--keep", dataset=str(tmp_path), verbosity=0)
    call_command("evaluate", "--drop", dataset=str(tmp_path), verbosity=0)
    assert not kept.exists() and not database_exists(f"ragbase_eval_{tmp_path.name}")


def database_exists(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def test_a_bad_fusion_or_fold_is_refused_before_anything_is_loaded(tmp_path):
    with pytest.raises(CommandError, match="expected rrf:K"):
        call_command("evaluate", "--dataset", str(tmp_path), "--fusion", "rrf:0")
    with pytest.raises(CommandError, match="is not a fold I/N"):
        call_command("evaluate", "--dataset", str(tmp_path), "--query-fold", "3/2")


def test_query_folds_split_the_judged_queries_between_them():
    queries = {f"q{i}": f"text {i}" for i in range(7)}
    qrels = {q: {"d": 1} for q in queries if q != "q3"}
    folds = [judged_queries(queries, qrels, fold=(part, 2), limit=None) for part in (1, 2)]
    assert sorted(folds[0] | folds[1]) == sorted(qrels) and not set(folds[0]) & set(folds[1])
    assert list(judged_queries(queries, qrels, fold=None, limit=2)) == ["q0", "q1"]


@pytest.mark.django_db
def test_load_beir_makes_one_document_per_corpus_row(django_user_model, embedder, tmp_path):
    rows = [{"_id": "d1", "title": "Vitamin D", "text": "Sunlight helps."}, {"_id": "d2", "title": "", "text": "Iron."}]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    django_user_model.objects.create_user("ann")
    call_command("load_beir", dataset=str(tmp_path), owner="ann", verbosity=0)
    assert sorted(Document.objects.values_list("source_id", "title")) == [("d1", "Vitamin D"), ("d2", "")]
    assert Chunk.objects.get(document__source_id="d1").metadata["title"] == "Vitamin D"


def test_the_evaluation_tables_name_the_default_configuration(settings):
    """README.md and docs/search.md measure one row as the default: it must be what the settings are."""
    for name in ("README.md", "docs/search.md"):
        lines = (settings.BASE_DIR / name).read_text().splitlines()
        (row,) = [line for line in lines if line.startswith("| **default")]
        for part in (f"k1 {settings.SPARSE_BM25_K1:g}", f"b {settings.SPARSE_BM25_B:g}",
                     f"avg_len {settings.SPARSE_BM25_AVG_LEN:g}", f"prefetch {settings.SEARCH_PREFETCH_LIMIT}",
                     f"`{settings.SEARCH_FUSION}`"):
            assert part in row, (name, part)
