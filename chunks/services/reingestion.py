"""Re-ingesting documents whose processing failed (the documents page and the API), the way each
was ingested in the first place:

- chunks the outbox gave up pushing (FAILED) are queued again, their staged vectors unchanged;
- a failed upload that still has its stored file is extracted, chunked and embedded again by a worker;
- a document from another source is fetched again by that source (chunks.services.refetching:
  drive registers Google Drive), as `manage.py rechunk` does.

A failed upload whose file was dropped (an unreadable file is not kept) cannot be re-ingested:
the report names it, so the user uploads a fixed one."""
from dataclasses import dataclass, field

from django.db import transaction

from chunks.models import Chunk, Document, SyncStatus
from chunks.outbox.enqueue import requeue_failed
from chunks.selectors import failed_documents
from chunks.services.refetching import refetching_sources
from chunks.tasks import enqueue_ingestion

@dataclass
class Reingestion:
    pushed_again: int = 0  # documents whose FAILED chunks were queued for the vector store again
    reread: int = 0  # failed documents queued to be fetched or extracted again
    not_failed: int = 0  # chosen documents that had not failed (left as they are)
    impossible: list[str] = field(default_factory=list)  # titles of failed documents nothing can re-read

    @property
    def queued(self) -> int:
        return self.pushed_again + self.reread

    def summary(self) -> str:
        parts = [f"{self.queued} failed document{'s' if self.queued != 1 else ''} queued again."]
        if self.not_failed:
            parts.append(f"{self.not_failed} had not failed and {'was' if self.not_failed == 1 else 'were'} left as "
                         f"{'it was' if self.not_failed == 1 else 'they were'}.")
        if self.impossible:
            names = ", ".join(f"“{title}”" for title in self.impossible[:5])
            more = f" and {len(self.impossible) - 5} more" if len(self.impossible) > 5 else ""
            parts.append(f"Cannot re-ingest {names}{more}: an unreadable upload is not kept (upload a fixed file), "
                         "and a Drive file needs a connected Drive.")
        return " ".join(parts)


def reingest_failed(*, owner, documents) -> Reingestion:
    """Re-ingest the failed ones among `documents` (a queryset, narrowed here to `owner`'s)."""
    chosen = documents.filter(owner=owner)
    failed = list(failed_documents(chosen))
    report = Reingestion(not_failed=chosen.count() - len(failed))
    with transaction.atomic():
        with_failed_chunks = {pk for pk in Chunk.objects.filter(document__in=failed, sync_status=SyncStatus.FAILED)
                              .values_list("document_id", flat=True)}
        requeue_failed(chunks=Chunk.objects.filter(document_id__in=with_failed_chunks))
        unreadable = [d for d in failed if d.state == Document.State.FAILED]
        report.pushed_again = len(with_failed_chunks - {d.pk for d in unreadable})
        by_source: dict[str, list[Document]] = {}
        for document in unreadable:
            by_source.setdefault(document.source, []).append(document)
        uploads = by_source.pop(Document.Source.UPLOAD, [])
        for document in uploads:
            if document.file:
                _mark_queued([document])
                enqueue_ingestion(document.pk, force=True)
                report.reread += 1
            else:
                report.impossible.append(document.title)
        refetching = refetching_sources()
        for source, group in by_source.items():
            queued = refetching[source].fetch_again(documents=group) if source in refetching else {}
            _mark_queued([document for document in group if document.pk in queued])
            report.reread += len(queued)
            report.impossible += [document.title for document in group if document.pk not in queued]
    return report


def _mark_queued(documents: list[Document]) -> None:
    """The documents page and the API show them queued (not failed) until the worker has them."""
    Document.objects.filter(pk__in=[d.pk for d in documents]).update(state=Document.State.QUEUED, error="")
