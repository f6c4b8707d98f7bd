"""What the rest of ragbase may ask of an embedder (HybridEmbedder is the one in use; tests pass
small stand-ins for parts of it)."""
from typing import Protocol, TypedDict


class SparseVector(TypedDict):
    indices: list[int]
    values: list[float]


class EmbeddedText(TypedDict):
    dense: list[float]
    sparse: SparseVector


class Embedder(Protocol):
    dense_dim: int
    # Names the dense and sparse models; recorded with the collection so vectors from two
    # different models are never mixed.
    model_id: str

    def embed_documents(self, texts: list[str]) -> list[EmbeddedText]: ...

    def embed_query(self, text: str) -> EmbeddedText: ...

    def tokenize(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of each token of the dense model's tokenizer (chunking cuts by these)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def sparse_terms(self, text: str) -> list[str]:
        """The sparse model's terms for text (stop words dropped, stemmed): what a query can match."""
        ...
