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

    def count_tokens(self, text: str) -> int: ...
