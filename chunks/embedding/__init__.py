"""The seam to the embedding models: `get_embedder()` returns the process-wide HybridEmbedder, an
`Embedder`."""
import threading

from django.conf import settings

from chunks.embedding.base import Embedder, EmbeddedText  # noqa: F401

_embedder = None
_lock = threading.Lock()


def get_embedder() -> Embedder:
    """Load the configured models once per process."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                from chunks.embedding.hybrid import HybridEmbedder  # loads fastembed (~0.5 s) only when embedding

                _embedder = HybridEmbedder(
                    dense_model=settings.DENSE_MODEL,
                    sparse_model=settings.SPARSE_MODEL,
                    models_dir=settings.MODELS_DIR,
                    batch_size=settings.EMBED_BATCH_SIZE,
                    threads=settings.EMBED_THREADS or None,
                )
    return _embedder
