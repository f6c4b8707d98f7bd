"""Scoring runs against qrels with pytrec_eval: nDCG@10 and Recall@100 on the whole ranking, MRR@10
on its top 10 (the first relevant document's reciprocal rank)."""
import time
from dataclasses import dataclass

import pytrec_eval

from search.evaluation.ranking import rank_queries

MEASURES = {"ndcg_cut_10": "nDCG@10", "recall_100": "Recall@100", "recip_rank": "MRR@10"}


@dataclass
class ModeScores:
    mode: str
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    seconds: float


def evaluate_mode(*, user, queries, qrels, mode, **options) -> ModeScores:
    """Rank every query in `mode` (`options`: those of ranking.rank_queries) and score the run."""
    started = time.perf_counter()
    runs = rank_queries(user=user, queries=queries, mode=mode, **options)
    return score_runs(runs, qrels, mode=mode, seconds=time.perf_counter() - started)


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
