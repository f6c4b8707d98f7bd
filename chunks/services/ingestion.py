"""The write path up to the outbox: bytes → text → chunks → dense + sparse vectors → PENDING rows.

A document whose content hash is unchanged does no work. A changed document has its chunks
replaced in one transaction (the old ones leave through the outbox). A file that cannot be
read fails alone: its Document records why, and the rest of a batch goes on."""
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.conf import settings
from django.db import transaction

from chunks.chunking import TextChunk, chunk_text
from chunks.embedding import Embedder, get_embedder
from chunks.extraction import ExtractionError, extract_text
from chunks.models import Chunk, Document
from chunks.outbox.enqueue import delete_chunks
from chunks.outbox.wakeup import notify
from chunks.storage import forget_stored_file

logger = logging.getLogger(__name__)


@dataclass
class IngestItem:
    owner: object
    source: str
    source_id: str
    title: str
    mime_type: str
    content: bytes
    url: str = ""
    modified_at: datetime | None = None


def ingest_content(*, owner, source, source_id, title, mime_type, content, url="", modified_at=None) -> Document:
    """Ingest one file's bytes synchronously; returns its Document (state ready, empty or failed)."""
    item = IngestItem(owner, source, source_id, title, mime_type, content, url, modified_at)
    return ingest_batch(items=[item])[0]


def ingest_batch(*, items: list[IngestItem], embedder: Embedder | None = None) -> list[Document]:
    """Ingest several files, embedding all their chunks together (far faster than one by one)."""
    embedder = embedder or get_embedder()
    prepared = prepare_documents(items=items, tokenizer=embedder)
    texts = [text for document in prepared if document.needs_vectors for text in document.texts]
    vectors = iter(embedder.embed_documents(texts))
    for document in prepared:
        if document.needs_vectors:
            document.vectors = [next(vectors) for _ in document.pieces]
    return write_documents(prepared=prepared)


def ingest_in_batches(*, items: Iterable[IngestItem], batch_size: int = 64, progress=None) -> Iterator[Document]:
    """Ingest `items` `batch_size` at a time (each batch embedded together), yielding every
    Document once its batch is written; `progress(n)` after each batch of n items. `items` is read
    as the batches go, so a generator of files holds one batch in memory."""
    items = iter(items)
    while batch := list(islice(items, batch_size)):
        yield from ingest_batch(items=batch)
        if progress:
            progress(len(batch))


@dataclass
class PreparedDocument:
    """One item between extraction and the database: its chunks and, once embedded, their vectors.
    Callers that embed in parts (Drive sync, against a time bound) fill `vectors` themselves and
    write only the documents that have them."""

    item: IngestItem
    content_hash: str
    pieces: list[TextChunk] = field(default_factory=list)
    error: str = ""  # extraction failed: the Document records why
    unchanged: bool = False  # the content indexed already: nothing to embed or replace
    vectors: list | None = None

    @property
    def texts(self) -> list[str]:
        return [embedding_text(self.item.title[:1024], piece.text, piece.headings) for piece in self.pieces]

    @property
    def needs_vectors(self) -> bool:
        return not (self.unchanged or self.error) and self.vectors is None and bool(self.pieces)


def indexed_content(items: list[IngestItem]) -> dict[tuple, tuple[str, str]]:
    """(owner id, source, source id) → (content hash, state) of the items' existing Documents."""
    wanted = {}
    for item in items:
        wanted.setdefault((item.owner.pk, item.source), set()).add(item.source_id)
    known = {}
    for (owner_id, source), source_ids in wanted.items():
        rows = Document.objects.filter(owner_id=owner_id, source=source, source_id__in=source_ids)
        for source_id, content_hash, state in rows.values_list("source_id", "content_hash", "state"):
            known[(owner_id, source, source_id)] = (content_hash, state)
    return known


def prepare_documents(*, items: list[IngestItem], tokenizer: Embedder, known: dict | None = None) -> list[PreparedDocument]:
    """Extract and chunk each item (nothing is written). An item whose content hash matches its
    ready Document is marked unchanged; one that cannot be read carries the reason. `known`:
    `indexed_content` of these items, when the caller has read it already."""
    known = indexed_content(items) if known is None else known
    prepared = []
    for item in items:
        content_hash = hashlib.sha256(item.content).hexdigest()
        document = PreparedDocument(item=item, content_hash=content_hash)
        indexed = known.get((item.owner.pk, item.source, item.source_id))
        if indexed is not None and indexed[0] == content_hash and indexed[1] in Document.INDEXED_STATES:
            document.unchanged = True
        else:
            try:
                extracted = extract_text(item.content, item.mime_type)
            except ExtractionError as exc:
                document.error = str(exc)
            else:
                document.pieces = chunk_text(extracted, tokenizer=tokenizer, size=settings.CHUNK_SIZE_TOKENS,
                                             overlap=settings.CHUNK_OVERLAP_TOKENS)
        prepared.append(document)
    return prepared


def write_documents(*, prepared: list[PreparedDocument]) -> list[Document]:
    """Save the prepared documents in one transaction and a handful of statements, whatever their
    number: their metadata always; the chunks of each changed one replaced (the old ones leave
    through the outbox); a failure recorded with its reason. Returns the Documents in order."""
    if not prepared:
        return []
    latest = {_key(entry.item): entry for entry in prepared}  # an item given twice: its last version
    with transaction.atomic():
        saved = Document.objects.bulk_create(
            [_document(entry.item) for entry in latest.values()], update_conflicts=True,
            unique_fields=["owner", "source", "source_id"],
            update_fields=["title", "mime_type", "url", "modified_at", "size_bytes", "updated_at"])
        documents = {_key(entry.item): document for entry, document in zip(latest.values(), saved, strict=True)}
        changed, failed = [], []
        for key, entry in latest.items():
            document = documents[key]
            if entry.error:
                logger.warning("ingestion of document %s failed: %s", document.pk, entry.error)
                document.state, document.error = Document.State.FAILED, entry.error
                failed.append(document)
            elif not entry.unchanged:
                changed.append((document, entry))
        delete_chunks(chunks=Chunk.objects.filter(document__in=[document for document, _ in changed]))
        Chunk.objects.bulk_create(
            [_chunk(document, ordinal, piece, vector)
             for document, entry in changed
             for ordinal, (piece, vector) in enumerate(zip(entry.pieces, entry.vectors or [], strict=True))],
            batch_size=500)
        for document, entry in changed:
            document.state = Document.State.READY if entry.pieces else Document.State.EMPTY
            document.error = "" if entry.pieces else "the file contains no text"
            document.content_hash = entry.content_hash
        Document.objects.bulk_update([d for d, _ in changed], ["state", "error", "content_hash"])
        Document.objects.bulk_update(failed, ["state", "error"])
        # An unreadable upload's stored file would only take space: the user uploads a fixed one.
        for document in Document.objects.filter(pk__in=[d.pk for d in failed]).exclude(file=""):
            forget_stored_file(document)
        if changed:
            notify()
    stored = Document.objects.in_bulk([document.pk for document in saved])
    return [stored[documents[_key(entry.item)].pk] for entry in prepared]


def _key(item: IngestItem) -> tuple:
    return item.owner.pk, item.source, item.source_id


def _document(item: IngestItem) -> Document:
    return Document(owner=item.owner, source=item.source, source_id=item.source_id, title=item.title[:1024],
                    mime_type=item.mime_type, url=item.url, modified_at=item.modified_at,
                    size_bytes=len(item.content))


def _chunk(document: Document, ordinal: int, piece: TextChunk, vector) -> Chunk:
    return Chunk(document=document, owner_id=document.owner_id, ordinal=ordinal, text=piece.text,
                 metadata={"title": document.title, "page": piece.page, "page_end": piece.page_end,
                           "headings": list(piece.headings)},
                 dense_vector=vector["dense"], sparse_indices=vector["sparse"]["indices"],
                 sparse_values=vector["sparse"]["values"])


def embedding_text(title: str, text: str, headings=()) -> str:
    """What is embedded for a chunk: its document's title and the headings above it ("Guide ›
    Install › From source") give its passage the context a reader sees around it."""
    where = " › ".join(part for part in (title, *headings) if part)
    return f"{where}\n{text}" if where else text


def stored_embedding_text(chunk: Chunk) -> str:
    """embedding_text of a stored chunk, from its metadata (re-embedding without the source)."""
    return embedding_text(chunk.metadata.get("title", ""), chunk.text, chunk.metadata.get("headings") or ())


def ingest_stored_document(*, document_id: int, force: bool = False) -> Document | None:
    """Ingest the stored file of an uploaded document (the django-q2 task and the admin's re-ingest).
    The document is "processing" while this runs, then ready, empty or failed."""
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None  # deleted while queued
    if not document.file:
        _fail(document, "there is no stored file to ingest")
        return document
    with document.file.open("rb") as stored:
        content = stored.read()
    if force or document.state == Document.State.QUEUED:
        # Committed at once, so the documents page and the API show it while the work runs.
        # (A document already indexed and not forced stays as it is: an unchanged file does no work.)
        Document.objects.filter(pk=document.pk).update(
            state=Document.State.PROCESSING, **({"content_hash": ""} if force else {}))
    item = IngestItem(
        document.owner, document.source, document.source_id, document.title, document.mime_type, content,
        document.url, document.modified_at,
    )
    return ingest_batch(items=[item])[0]


def _fail(document, message):
    """The file cannot be read (its type, size or content): the document says why, and an
    upload's stored file is deleted (it would only take space; the user uploads a fixed one)."""
    logger.warning("ingestion of document %s failed: %s", document.pk, message)
    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED, error=message)
    document.state, document.error = Document.State.FAILED, message
    forget_stored_file(document)
