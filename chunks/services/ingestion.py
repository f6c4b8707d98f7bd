"""The write path up to the outbox: bytes → text → chunks → dense + sparse vectors → PENDING rows.

A document whose content hash is unchanged does no work. A changed document has its chunks
replaced in one transaction (the old ones leave through the outbox). A file that cannot be
read fails alone: its Document records why, and the rest of a batch goes on."""
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from chunks.chunking import TextChunk, chunk_text
from chunks.deletions import delete_chunks
from chunks.embedding import get_embedder
from chunks.extraction import ExtractionError, extract_text, guess_mime_type
from chunks.models import Chunk, Document
from chunks.signals import outbox_has_work
from chunks.uploads import forget_stored_file

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


def ingest_batch(*, items: list[IngestItem], embedder=None) -> list[Document]:
    """Ingest several files, embedding all their chunks together (far faster than one by one)."""
    embedder = embedder or get_embedder()
    work: list[tuple[Document, str, list[TextChunk]]] = []
    documents = []
    for item in items:
        document = _upsert_document(item)
        documents.append(document)
        content_hash = hashlib.sha256(item.content).hexdigest()
        if document.content_hash == content_hash and document.state in (Document.State.READY, Document.State.EMPTY):
            continue
        pieces = _extract_and_chunk(document, item.content, embedder)
        if pieces is not None:
            work.append((document, content_hash, pieces))
    texts = [embedding_text(document.title, piece.text) for document, _, pieces in work for piece in pieces]
    vectors = iter(embedder.embed_documents(texts))
    for document, content_hash, pieces in work:
        _replace_chunks(document, content_hash, pieces, [next(vectors) for _ in pieces])
    return documents


def embedding_text(title: str, text: str) -> str:
    """What is embedded for a chunk: its document's title gives short chunks their context."""
    return f"{title}\n{text}" if title else text


def queue_upload(*, owner, uploaded_file) -> Document:
    """Store an uploaded file and queue its ingestion; returns at once with the document queued."""
    from django_q.tasks import async_task

    name = uploaded_file.name.rsplit("/", 1)[-1]
    document = Document.objects.create(
        owner=owner,
        source=Document.Source.UPLOAD,
        source_id=uuid.uuid4().hex,
        title=name,
        mime_type=guess_mime_type(name, getattr(uploaded_file, "content_type", "")),
        size_bytes=uploaded_file.size,
        file=uploaded_file,
        state=Document.State.QUEUED,
    )
    transaction.on_commit(lambda: async_task("chunks.tasks.ingest_document", document.pk))
    return document


def ingest_stored_document(*, document_id: int, force: bool = False) -> Document | None:
    """Ingest the stored file of an uploaded document (the django-q2 task and the admin's re-ingest)."""
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None  # deleted while queued
    if not document.file:
        _fail(document, "there is no stored file to ingest")
        return document
    with document.file.open("rb") as stored:
        content = stored.read()
    if force:
        Document.objects.filter(pk=document.pk).update(content_hash="")
    item = IngestItem(
        document.owner, document.source, document.source_id, document.title, document.mime_type, content,
        document.url, document.modified_at,
    )
    return ingest_batch(items=[item])[0]


def _upsert_document(item: IngestItem) -> Document:
    document, _ = Document.objects.update_or_create(
        owner=item.owner,
        source=item.source,
        source_id=item.source_id,
        defaults={
            "title": item.title[:1024],
            "mime_type": item.mime_type,
            "url": item.url,
            "modified_at": item.modified_at,
            "size_bytes": len(item.content),
        },
    )
    return document


def _extract_and_chunk(document, content, embedder) -> list[TextChunk] | None:
    try:
        extracted = extract_text(content, document.mime_type)
    except ExtractionError as exc:
        _fail(document, str(exc))
        return None
    return chunk_text(
        extracted, tokenizer=embedder, size=settings.CHUNK_SIZE_TOKENS, overlap=settings.CHUNK_OVERLAP_TOKENS
    )


def _fail(document, message):
    """The file cannot be read (its type, size or content): the document says why, and an
    upload's stored file is deleted (it would only take space; the user uploads a fixed one)."""
    logger.warning("ingestion of document %s failed: %s", document.pk, message)
    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED, error=message)
    document.state, document.error = Document.State.FAILED, message
    forget_stored_file(document)


def _replace_chunks(document, content_hash, pieces, vectors):
    with transaction.atomic():
        delete_chunks(chunks=Chunk.objects.filter(document=document))
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document=document,
                    owner_id=document.owner_id,
                    ordinal=ordinal,
                    text=piece.text,
                    metadata={"title": document.title, "page": piece.page, "page_end": piece.page_end},
                    dense_vector=vector["dense"],
                    sparse_indices=vector["sparse"]["indices"],
                    sparse_values=vector["sparse"]["values"],
                )
                for ordinal, (piece, vector) in enumerate(zip(pieces, vectors, strict=True))
            ],
            batch_size=500,
        )
        document.state = Document.State.READY if pieces else Document.State.EMPTY
        document.error = "" if pieces else "the file contains no text"
        document.content_hash = content_hash
        document.save(update_fields=["state", "error", "content_hash", "updated_at"])
        transaction.on_commit(lambda: outbox_has_work.send(sender=Chunk))
