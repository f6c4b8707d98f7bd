"""The seam to the vector store. Callers use `get_vector_index()` and the types in `base`."""
from chunks.vector_index.base import (  # noqa: F401
    CollectionMismatch,
    IndexHealth,
    QueryFilter,
    ScoredId,
    SearchMode,
    VectorIndex,
    VectorPoint,
    VectorStoreUnavailable,
)
