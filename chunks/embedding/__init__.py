"""The seam to the embedding models. Callers use `get_embedder()` and `EmbeddedText`."""
