"""Reading BEIR-format datasets (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)."""
import csv
import json
from pathlib import Path


def is_dataset(dataset: Path) -> bool:
    return (Path(dataset) / "corpus.jsonl").exists()


def read_corpus(dataset: Path):
    """Yields (doc_id, title, text)."""
    with open(Path(dataset) / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                yield str(row["_id"]), row.get("title", "") or "", row.get("text", "") or ""


def corpus_size(dataset: Path) -> int:
    """Documents in the corpus (for progress bars)."""
    with open(Path(dataset) / "corpus.jsonl", encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def read_queries(dataset: Path) -> dict[str, str]:
    with open(Path(dataset) / "queries.jsonl", encoding="utf-8") as lines:
        return {str(r["_id"]): r["text"] for r in map(json.loads, filter(str.strip, lines))}


def read_qrels(dataset: Path, split: str = "test") -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(Path(dataset) / "qrels" / f"{split}.tsv", encoding="utf-8") as rows:
        reader = csv.reader(rows, delimiter="\t")
        for row in reader:
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def judged_queries(queries, qrels, *, fold, limit):
    """The queries that have judgements, in id order: all, or fold (I, N) = every N-th from the I-th,
    or the first `limit`."""
    chosen = sorted((q, t) for q, t in queries.items() if q in qrels)
    if fold:
        part, folds = fold
        chosen = chosen[part - 1 :: folds]
    return dict(chosen[:limit] if limit else chosen)
