import argparse
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from chunks.embedding import get_embedder
from chunks.vector_index import CollectionMismatch, Fusion, SearchMode, build_vector_index, set_vector_index
from search.evaluation.beir import (
    corpus_size,
    is_dataset,
    judged_queries,
    read_corpus,
    read_qrels,
    read_queries,
)
from search.evaluation.loading import load_corpus
from search.evaluation.ranking import QueryEmbeddingCache
from search.evaluation.scoring import MEASURES, evaluate_mode
from search.services import default_fusion


def fusion_argument(text):
    try:
        return Fusion.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fold_argument(text):
    """I/N: the I-th of N interleaved folds of the split's queries (in query id order)."""
    try:
        part, folds = (int(n) for n in text.split("/"))
    except ValueError:
        part = folds = 0
    if not 1 <= part <= folds:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fold I/N with 1 <= I <= N, e.g. 1/2")
    return part, folds


class Command(BaseCommand):
    help = (
        "Evaluate retrieval on a BEIR dataset: load it for an isolated user into an isolated "
        "collection, run every query in each mode through the search service, print nDCG@10, "
        "Recall@100 and MRR@10 (pytrec_eval) for each fusion of the hybrid mode and for each single leg."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--split", default="test")
        parser.add_argument("--modes", default="hybrid,dense,sparse")
        parser.add_argument("--fusion", type=fusion_argument, action="append", dest="fusions",
                            help="A fusion for the hybrid mode (repeatable): rrf:K, rrf:K:DENSE,SPARSE or dbsf; "
                            "default SEARCH_FUSION.")
        parser.add_argument("--limit-queries", type=int)
        parser.add_argument("--query-fold", type=fold_argument, metavar="I/N",
                            help="Only the I-th of N interleaved folds of the queries "
                            "(choose on one fold, confirm on another).")
        parser.add_argument("--ignore-identical-ids", action="store_true",
                            help="Drop a hit whose document id equals the query id (ArguAna, Quora...).")
        parser.add_argument("--keep", action="store_true",
                            help="Keep the evaluation database and collection (a later --keep run reuses them).")
        parser.add_argument("--drop", action="store_true",
                            help="Only drop the database and collection an earlier --keep run kept.")

    def handle(self, *args, dataset, split, modes, fusions, limit_queries, query_fold, ignore_identical_ids, keep,
               drop, **options):
        dataset = Path(dataset)
        if not is_dataset(dataset):
            raise CommandError(f"{dataset} is not a BEIR dataset folder (corpus.jsonl missing)")
        started = time.perf_counter()
        name = dataset.resolve().name
        # A database of its own (created and migrated like a test database) keeps the evaluation
        # out of the product's outbox, and the product's chunks out of the evaluation.
        connection.settings_dict["TEST"] = {**connection.settings_dict.get("TEST", {}), "NAME": f"ragbase_eval_{name}"}
        product_database = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep or drop, serialize=False)
        user, _ = get_user_model().objects.get_or_create(username=f"eval-{name}")
        # A collection of its own, made this process's index: the load is pushed and searched there.
        index = build_vector_index(
            url=settings.QDRANT_URL or None,
            api_key=settings.QDRANT_API_KEY,
            path=settings.VAR_DIR / "eval-qdrant",
            collection=f"eval_{name}",
        )
        if drop:
            if index.recorded_spec() is not None:
                index.drop_collection()
            index.close()
            connection.creation.destroy_test_db(product_database, verbosity=0)
            self.stdout.write(f"dropped the evaluation database and collection of {name}")
            return
        previous_index = set_vector_index(index)
        embedder = QueryEmbeddingCache(get_embedder())
        try:
            if not user.documents.exists() and index.recorded_spec() is not None:
                index.drop_collection()  # points a kept collection holds for documents of a dropped database
            try:
                index.ensure_collection(dense_dim=embedder.dense_dim, model_id=embedder.model_id)
            except CollectionMismatch as exc:  # kept by a run with other models or BM25 parameters
                raise CommandError(f"{exc}. For the evaluation: `evaluate --dataset {dataset} --drop`, "
                                   "then load it again.") from None
            self._load(dataset, user, verbosity=options["verbosity"])
            qrels = read_qrels(dataset, split)
            queries = judged_queries(read_queries(dataset), qrels, fold=query_fold, limit=limit_queries)
            runs = [(SearchMode(mode), fusion) for mode in modes.split(",")
                    for fusion in ((fusions or [default_fusion()]) if mode == SearchMode.HYBRID else [None])]
            rows = []
            for mode, fusion in runs:
                label = f"{mode.value} {fusion}" if fusion else mode.value
                with tqdm(total=len(queries), desc=label, unit="q", disable=options["verbosity"] == 0) as bar:
                    scores = evaluate_mode(
                        user=user, queries=queries, qrels=qrels, mode=mode, fusion=fusion, embedder=embedder,
                        ignore_identical_ids=ignore_identical_ids, progress=bar.update,
                    )
                rows.append((label, scores))
        finally:
            set_vector_index(previous_index)
            if not keep:
                index.drop_collection()
            index.close()
            if keep:  # back on the product's database, as destroy_test_db leaves it
                connection.close()
                connection.settings_dict["NAME"] = product_database
            else:
                connection.creation.destroy_test_db(product_database, verbosity=0)
        self._print(rows, name, len(queries), time.perf_counter() - started)

    def _load(self, dataset, user, *, verbosity):
        if user.documents.exists():
            self.stdout.write("reusing the documents loaded by an earlier --keep run")
        else:
            with tqdm(total=corpus_size(dataset), desc="embed corpus", unit="doc", disable=verbosity == 0) as bar:
                load_corpus(rows=read_corpus(dataset), owner=user, progress=bar.update)
        # The operator's push-now command drains the outbox into this process's index, the one above.
        call_command("sync_qdrant", stdout=self.stdout, stderr=self.stderr, verbosity=verbosity)

    def _print(self, rows, name, queries, seconds):
        header = f"{'mode':<24}" + "".join(f"{label:>12}" for label in MEASURES.values()) + f"{'query s':>10}"
        self.stdout.write(f"\n{name}: {queries} queries\n{header}")
        for label, s in rows:
            self.stdout.write(
                f"{label:<24}{s.ndcg_at_10:>12.4f}{s.recall_at_100:>12.4f}{s.mrr_at_10:>12.4f}{s.seconds:>10.1f}"
            )
        self.stdout.write(f"wall time {seconds:.0f} s")

