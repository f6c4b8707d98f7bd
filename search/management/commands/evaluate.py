import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from chunks.embedding import get_embedder
from chunks.vector_index import SearchMode, build_vector_index, set_vector_index
from search.evaluation.beir import corpus_size, is_dataset, read_corpus, read_qrels, read_queries
from search.evaluation.loading import load_corpus
from search.evaluation.scoring import MEASURES, evaluate_mode


class Command(BaseCommand):
    help = (
        "Evaluate retrieval on a BEIR dataset: load it for an isolated user into an isolated "
        "collection, run every query in each mode through the search service, print nDCG@10, "
        "Recall@100 and MRR@10 (pytrec_eval)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--split", default="test")
        parser.add_argument("--modes", default="hybrid,dense,sparse")
        parser.add_argument("--rrf-k", type=int, action="append", help="RRF k to try (repeatable); default SEARCH_RRF_K.")
        parser.add_argument("--limit-queries", type=int)
        parser.add_argument("--ignore-identical-ids", action="store_true",
                            help="Drop a hit whose document id equals the query id (ArguAna, Quora...).")
        parser.add_argument("--keep", action="store_true", help="Keep the evaluation database and collection (a later --keep run reuses them).")

    def handle(self, *args, dataset, split, modes, rrf_k, limit_queries, ignore_identical_ids, keep, **options):
        dataset = Path(dataset)
        if not is_dataset(dataset):
            raise CommandError(f"{dataset} is not a BEIR dataset folder (corpus.jsonl missing)")
        started = time.perf_counter()
        name = dataset.resolve().name
        # A database of its own (created and migrated like a test database) keeps the evaluation
        # out of the product's outbox, and the product's chunks out of the evaluation.
        connection.settings_dict["TEST"] = {**connection.settings_dict.get("TEST", {}), "NAME": f"ragbase_eval_{name}"}
        product_database = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep, serialize=False)
        user, _ = get_user_model().objects.get_or_create(username=f"eval-{name}")
        # A collection of its own, made this process's index: the load is pushed and searched there.
        index = build_vector_index(
            url=settings.QDRANT_URL or None,
            api_key=settings.QDRANT_API_KEY,
            path=settings.VAR_DIR / "eval-qdrant",
            collection=f"eval_{name}",
        )
        previous_index = set_vector_index(index)
        embedder = get_embedder()
        try:
            index.ensure_collection(dense_dim=embedder.dense_dim, model_id=embedder.model_id)
            self._load(dataset, user, verbosity=options["verbosity"])
            qrels = read_qrels(dataset, split)
            queries = {q: t for q, t in read_queries(dataset).items() if q in qrels}
            if limit_queries:
                queries = dict(list(queries.items())[:limit_queries])
            rows = []
            for k in rrf_k or [settings.SEARCH_RRF_K]:
                for mode in modes.split(","):
                    if mode != SearchMode.HYBRID and any(r[0] == mode for r in rows):
                        continue  # single legs do not depend on k
                    with tqdm(total=len(queries), desc=f"{mode} k={k}", unit="q", disable=options["verbosity"] == 0) as bar:
                        scores = evaluate_mode(
                            user=user, queries=queries, qrels=qrels, mode=mode, rrf_k=k, embedder=embedder,
                            ignore_identical_ids=ignore_identical_ids, progress=bar.update,
                        )
                    label = f"hybrid (RRF k={k})" if mode == SearchMode.HYBRID else mode
                    rows.append((mode, label, scores))
        finally:
            set_vector_index(previous_index)
            if not keep:
                index.drop_collection()
            index.close()
            if not keep:
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
        header = f"{'mode':<22}" + "".join(f"{label:>12}" for label in MEASURES.values()) + f"{'query s':>10}"
        self.stdout.write(f"\n{name}: {queries} queries\n{header}")
        for _, label, s in rows:
            self.stdout.write(
                f"{label:<22}{s.ndcg_at_10:>12.4f}{s.recall_at_100:>12.4f}{s.mrr_at_10:>12.4f}{s.seconds:>10.1f}"
            )
        self.stdout.write(f"wall time {seconds:.0f} s")
