"""The seam to the embedding models: `get_embedder()` returns the process-wide HybridEmbedder, an
`Embedder`."""
import threading

from django.conf import settings

from chunks.embedding.base import EmbeddedText, Embedder  # noqa: F401

_embedder = None
_lock = threading.Lock()


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
                )
    return _embedder
