"""Retrieval evaluation on BEIR-format datasets, through the same search service users call."""
import time
from dataclasses import dataclass

import pytrec_eval

from search.services import search

MEASURES = {"ndcg_cut_10": "nDCG@10", "recall_100": "Recall@100", "recip_rank": "MRR@10"}


@dataclass
class ModeScores:
    mode: str
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    seconds: float


def document_ranking(hits, *, exclude_id=None) -> dict[str, float]:
    """Chunk hits → document ids ranked by their best chunk (scores made strictly decreasing so
    pytrec_eval keeps the search order)."""
    ranking: dict[str, float] = {}
    for hit in hits:
        doc_id = hit.source_id
        if doc_id not in ranking and doc_id != exclude_id:
            ranking[doc_id] = float(1000 - len(ranking))
    return ranking


def evaluate_mode(*, user, queries, qrels, mode, index, embedder, depth=100, ignore_identical_ids=False, progress=None):
    runs, started = {}, time.perf_counter()
    for query_id, text in queries.items():
        hits = search(user=user, query=text, mode=mode, top_k=depth, index=index, embedder=embedder).hits
        runs[query_id] = document_ranking(hits, exclude_id=query_id if ignore_identical_ids else None)
        if progress:
            progress(1)
    seconds = time.perf_counter() - started
    return score_runs(runs, qrels, mode=mode, seconds=seconds)


def score_runs(runs, qrels, *, mode, seconds) -> ModeScores:
    judged = {q: r for q, r in runs.items() if q in qrels}
    top10 = {q: dict(sorted(r.items(), key=lambda kv: -kv[1])[:10]) for q, r in judged.items()}
    deep = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "recall_100"}).evaluate(judged)
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)

    def mean(results, key):
        return sum(r[key] for r in results.values()) / max(len(results), 1)

    return ModeScores(
        mode=mode,
        ndcg_at_10=mean(deep, "ndcg_cut_10"),
        recall_at_100=mean(deep, "recall_100"),
        mrr_at_10=mean(mrr, "recip_rank"),
        queries=len(judged),
        seconds=seconds,
    )
