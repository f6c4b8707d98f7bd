"""What an embedder's vectors are made of, as its `model_id`: the collection records it, and
vectors made otherwise are refused (chunks.vector_index) until `manage.py reindex`. A pure module
(no fastembed import), so system checks can name the identity without loading a model."""
from dataclasses import dataclass

# fastembed's Bm25 models: term frequencies scored with k1, b and avg_len (SPARSE_BM25_*).
BM25_MODELS = ("Qdrant/bm25",)


@dataclass(frozen=True)
class Bm25Parameters:
    """BM25's term-frequency parameters; the defaults are fastembed's own, which every collection
    was made with before they were settings."""

    k1: float = 1.2
    b: float = 0.75
    avg_len: float = 256.0  # the mean document length, in BM25 terms (after stop words, stemmed)


def is_bm25(sparse_model: str) -> bool:
    return sparse_model.lower() in {name.lower() for name in BM25_MODELS}


def sparse_identity(sparse_model: str, bm25: Bm25Parameters) -> str:
    """The sparse model's name, with its BM25 parameters unless they are fastembed's defaults (so a
    collection made before they were settings keeps its identity with those)."""
    if not is_bm25(sparse_model) or bm25 == Bm25Parameters():
        return sparse_model
    return f"{sparse_model}(k1={bm25.k1:g},b={bm25.b:g},avg_len={bm25.avg_len:g})"


def embedder_model_id(*, dense_model: str, sparse_model: str, bm25: Bm25Parameters) -> str:
    return f"dense={dense_model};sparse={sparse_identity(sparse_model, bm25)}"
