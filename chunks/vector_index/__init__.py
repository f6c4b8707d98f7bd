"""The seam to the vector store. Callers use `get_vector_index()` (or `ensure_index_ready()`, which
also makes sure the collection exists) and the types in `base`.

`QDRANT_URL` set → the server backend (any process may use it); unset → the embedded engine in
`QDRANT_PATH`, which only one process (`manage.py serve`) may open.
"""
import threading

from django.conf import settings

from chunks.embedding import get_embedder
from chunks.vector_index.base import (  # noqa: F401
    FUSION_SYNTAX,
    CollectionMismatch,
    Fusion,
    FusionMethod,
    IndexHealth,
    QueryFilter,
    ScoredId,
    SearchMode,
    VectorIndex,
    VectorPoint,
    VectorStoreUnavailable,
)

_lock = threading.Lock()
_ensure_lock = threading.Lock()
_process_index: VectorIndex | None = None


def build_vector_index(*, url=None, api_key=None, path=None, collection, timeout=None) -> VectorIndex:
    """A new index: the server backend when `url` is given, else the embedded engine in `path`."""
    # Each backend's library is imported only when it is used (qdrant-client alone takes ~1 s).
    if url:
        from chunks.vector_index.qdrant_server import ServerVectorIndex

        return ServerVectorIndex(
            url=url, api_key=api_key, collection=collection, timeout=timeout or settings.QDRANT_TIMEOUT_SECONDS
        )
    from chunks.vector_index.qdrant_edge import EdgeVectorIndex

    return EdgeVectorIndex(path=path, collection=collection)


def uses_embedded_store() -> bool:
    return not settings.QDRANT_URL


def get_vector_index() -> VectorIndex:
    """The process-wide index from settings (opened on first use; in embedded mode this takes
    the single-owner lock of QDRANT_PATH, except in the web server's worker processes, which reach
    the store through the process that owns it: owner_link)."""
    global _process_index
    with _lock:
        if _process_index is None and settings.STORE_OWNER_SOCKET:
            from chunks.vector_index.owner_link import OwnerLinkIndex

            _process_index = OwnerLinkIndex(path=settings.STORE_OWNER_SOCKET,
                                            key=bytes.fromhex(settings.STORE_OWNER_KEY),
                                            collection=settings.QDRANT_COLLECTION)
        elif _process_index is None:
            _process_index = build_vector_index(
                url=settings.QDRANT_URL,
                api_key=settings.QDRANT_API_KEY,
                path=settings.QDRANT_PATH,
                collection=settings.QDRANT_COLLECTION,
            )
        return _process_index


def set_vector_index(index: VectorIndex | None) -> VectorIndex | None:
    """Install `index` as the process-wide index (tests, `evaluate`'s own collection); returns the
    previous one, not closed."""
    global _process_index
    with _lock:
        previous, _process_index = _process_index, index
        return previous


def reset_vector_index() -> None:
    """Close and forget the process-wide index (tests, and `reindex` after recreating it)."""
    previous = set_vector_index(None)
    if previous is not None:
        previous.close()


def ensure_index_ready(index: VectorIndex | None = None, *, dense_dim=None, model_id=None) -> VectorIndex:
    """`index` (default: the process-wide one) with its collection made for the embedder's vectors,
    ensured once per index object. The embedder's models load only when dim/model are not given."""
    index = index or get_vector_index()
    if not index.ready:
        # Concurrent first requests (threads of one server) must not create the collection twice.
        with _ensure_lock:
            if not index.ready:
                if dense_dim is None or model_id is None:
                    embedder = get_embedder()
                    dense_dim, model_id = embedder.dense_dim, embedder.model_id
                index.ensure_collection(dense_dim=dense_dim, model_id=model_id)
    return index


def iter_pages(index: VectorIndex, *, page_size: int, with_vectors: bool):
    """Every point of `index`'s collection, one scroll page (a list) at a time, in id order."""
    offset = None
    while True:
        page, offset = index.scroll(offset=offset, limit=page_size, with_vectors=with_vectors)
        if page:
            yield page
        if offset is None:
            return
