"""The seam to the embedding models: `get_embedder()` returns the process-wide HybridEmbedder, an
`Embedder`."""
import threading

from django.conf import settings

from chunks.embedding.base import EmbeddedText, Embedder  # noqa: F401
from chunks.embedding.identity import Bm25Parameters, embedder_model_id

_embedder = None
_lock = threading.Lock()


def configured_bm25() -> Bm25Parameters:
    """SPARSE_BM25_K1, _B and _AVG_LEN (read by the sparse model when it is BM25)."""
    return Bm25Parameters(k1=settings.SPARSE_BM25_K1, b=settings.SPARSE_BM25_B, avg_len=settings.SPARSE_BM25_AVG_LEN)


def configured_model_id() -> str:
    """The model_id get_embedder()'s vectors will have, without loading the models."""
    return embedder_model_id(dense_model=settings.DENSE_MODEL, sparse_model=settings.SPARSE_MODEL,
                             bm25=configured_bm25())


def get_embedder() -> Embedder:
    """Load the configured models once per process."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                # Here, not above: fastembed takes ~0.5 s to import, and most processes never embed.
                from chunks.embedding.hybrid import HybridEmbedder

                _embedder = HybridEmbedder(
                    dense_model=settings.DENSE_MODEL,
                    sparse_model=settings.SPARSE_MODEL,
                    models_dir=settings.MODELS_DIR,
                    batch_size=settings.EMBED_BATCH_SIZE,
                    threads=settings.EMBED_THREADS or None,
                    bm25=configured_bm25(),
                )
    return _embedder
