"""Re-chunking indexed documents (`manage.py rechunk`): each is extracted and chunked again with
today's extraction and chunking (heading paths, cleaner text) from the content ragbase keeps, its
new chunks embedded and written PENDING while the old ones leave through the outbox, as any change.

Where a document's content comes from:
- an upload: its stored file (nothing is downloaded);
- a file ingested from a path (`manage.py ingest`): that path, while the file is still there;
- a source whose bytes ragbase does not keep (Google Drive): the app that owns the source fetches
  them again (chunks.services.refetching; Drive's sync run exports just those files).

A document whose new chunks equal its current ones is left as it is (so a second run does nothing),
and one that cannot be read again keeps its current chunks and says why; the others go on."""
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Count, Exists, OuterRef, Q

from chunks.embedding import Embedder, get_embedder
from chunks.models import Chunk, Document
from chunks.services.ingestion import IngestItem, PreparedDocument, prepare_documents, write_documents
from chunks.services.refetching import refetching_sources

PATH_SOURCE_PREFIX = "path:"  # source_id of a file `manage.py ingest` read from disk


def select_documents(*, usernames=(), document_ids=(), lacking_headings=False):
    """Indexed documents (ready or empty), optionally of these users, these ids, and only those
    without heading paths: chunks made before paths were recorded, or a form that loses them."""
    documents = Document.objects.filter(state__in=Document.INDEXED_STATES)
    if usernames:
        documents = documents.filter(owner__username__in=usernames)
    if document_ids:
        documents = documents.filter(pk__in=document_ids)
    if lacking_headings:
        unrecorded = Chunk.objects.filter(document=OuterRef("pk")).exclude(metadata__has_key="headings")
        lossy = Q(pk__in=[])
        for source, refetching in refetching_sources().items():
            lossy |= Q(source=source) & refetching.lacking_headings
        documents = documents.filter(Q(Exists(unrecorded)) | lossy)
    return documents.order_by("pk")


@dataclass
class Outcome:
    document: Document
    status: str  # "rechunked", "unchanged", "refetch" (its source fetches it again), "failed"
    chunks: int = 0  # chunks embedded (or, dry run: to embed); refetch: its chunks now
    message: str = ""


def rechunk(*, documents, dry_run=False, batch_size=16, embedder: Embedder | None = None) -> Iterator[Outcome]:
    """Re-chunk `documents` (a queryset), `batch_size` at a time (each batch embedded together),
    yielding each document's outcome once its batch is written. A dry run extracts and chunks, to
    count the chunks to embed, and writes nothing."""
    embedder = embedder or get_embedder()
    refetching = refetching_sources()
    stored = list(documents.exclude(source__in=list(refetching)).values_list("pk", flat=True))
    for start in range(0, len(stored), batch_size):
        batch = Document.objects.select_related("owner").filter(pk__in=stored[start:start + batch_size])
        yield from _rechunk_batch(list(batch.order_by("pk")), embedder, dry_run)
    for source, refetching_source in refetching.items():
        waiting = list(documents.filter(source=source).select_related("owner"))
        if not waiting:
            continue
        counts = dict(Chunk.objects.filter(document__in=waiting).values_list("document").annotate(n=Count("id"))
                      .order_by())
        messages = refetching_source.fetch_again(documents=waiting, dry_run=dry_run)
        for document in waiting:
            if document.pk in messages:
                yield Outcome(document, "refetch", counts.get(document.pk, 0), messages[document.pk])
            else:
                yield Outcome(document, "failed", message="its source cannot fetch it again now (its chunks are kept)")


def _rechunk_batch(documents: list[Document], embedder: Embedder, dry_run: bool) -> Iterator[Outcome]:
    readable = []
    for document in documents:
        try:
            readable.append((document, _stored_item(document)))
        except _NoContent as exc:
            yield Outcome(document, "failed", message=str(exc))
    # known={}: every item is chunked, even one whose content is unchanged.
    prepared = prepare_documents(items=[item for _, item in readable], tokenizer=embedder, known={})
    changed = []
    for (document, _), entry in zip(readable, prepared, strict=True):
        if entry.error:
            yield Outcome(document, "failed", message=f"could not be read again (its chunks are kept): {entry.error}")
        elif _same_chunks(document, entry):
            if not dry_run:
                _record_no_headings(document)
            yield Outcome(document, "unchanged")
        else:
            changed.append((document, entry))
    if not dry_run and changed:
        texts = [text for _, entry in changed for text in entry.texts]
        vectors = iter(embedder.embed_documents(texts))
        for _, entry in changed:
            entry.vectors = [next(vectors) for _ in entry.pieces]
        write_documents(prepared=[entry for _, entry in changed])
    for document, entry in changed:
        yield Outcome(document, "rechunked", chunks=len(entry.pieces))


class _NoContent(Exception):
    pass


def _stored_item(document: Document) -> IngestItem:
    if document.file:
        try:
            with document.file.open("rb") as stored:
                content = stored.read()
        except OSError as exc:
            raise _NoContent(f"its stored file {document.file.name} cannot be read ({exc}); upload it again") from None
    elif document.source_id.startswith(PATH_SOURCE_PREFIX):
        path = Path(document.source_id.removeprefix(PATH_SOURCE_PREFIX))
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise _NoContent(f"it was ingested from {path}, which cannot be read now ({exc.strerror}); "
                             "ingest it again") from None
    else:
        raise _NoContent("ragbase keeps no copy of its content (it was ingested as text); ingest it again")
    return IngestItem(document.owner, document.source, document.source_id, document.title, document.mime_type,
                      content, document.url, document.modified_at)


def _same_chunks(document: Document, entry: PreparedDocument) -> bool:
    """The new pieces are the chunks the document has: text, pages and heading path, in order."""
    current = list(document.chunks.order_by("ordinal").values_list("text", "metadata"))
    new = [(p.text, p.page, p.page_end, list(p.headings)) for p in entry.pieces]
    return new == [(text, m.get("page"), m.get("page_end"), m.get("headings") or []) for text, m in current]


def _record_no_headings(document: Document) -> None:
    """Chunks made before heading paths were recorded, whose document has none: recorded as none
    (what is embedded is the same), so they are not selected as lacking them again."""
    chunks = list(document.chunks.exclude(metadata__has_key="headings"))
    for chunk in chunks:
        chunk.metadata["headings"] = []
    Chunk.objects.bulk_update(chunks, ["metadata"])
