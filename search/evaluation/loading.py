"""A BEIR corpus as documents of a user: one document per row (source id = the BEIR doc id, the
row's title as the document's), through the real ingestion (extraction, chunking, both
embeddings). Its chunks are then PENDING, for the outbox to push like any others."""
from collections import Counter
from itertools import islice

from chunks.models import Document
from chunks.services.ingestion import IngestItem, ingest_in_batches


def load_corpus(*, rows, owner, batch_size: int = 64, limit: int | None = None, progress=None) -> dict[str, int]:
    """Ingest `rows` of (doc_id, title, text) for `owner`, `batch_size` at a time (`progress(n)`
    after each batch). Returns how many documents ended in each state."""
    if limit:
        rows = islice(rows, limit)
    items = (IngestItem(owner, Document.Source.UPLOAD, doc_id, title, "text/plain", text.encode("utf-8"))
             for doc_id, title, text in rows)
    return dict(Counter(document.state for document in ingest_in_batches(
        items=items, batch_size=batch_size, progress=progress)))
