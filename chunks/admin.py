from django.contrib import admin, messages
from django.db.models import Count

from chunks.models import Chunk, Document, IndexCheck, SyncStatus, VectorDeletion
from chunks.outbox.enqueue import requeue_failed
from chunks.outbox.stats import stats
from chunks.selectors import latest_index_check
from chunks.tasks import enqueue_ingestion


@admin.action(description="Retry pushing FAILED chunks to the vector store")
def retry_failed_chunks(modeladmin, request, queryset):
    count = requeue_failed(chunks=Chunk.objects.filter(pk__in=queryset.values("pk")))
    modeladmin.message_user(request, f"{count} failed chunk(s) queued again.", messages.SUCCESS)


@admin.action(description="Retry pushing the FAILED chunks of these documents")
def retry_failed_document_chunks(modeladmin, request, queryset):
    count = requeue_failed(chunks=Chunk.objects.filter(document__in=queryset))
    modeladmin.message_user(request, f"{count} failed chunk(s) queued again.", messages.SUCCESS)


@admin.action(description="Re-ingest (extract, chunk and embed again)")
def reingest_documents(modeladmin, request, queryset):
    uploads = queryset.exclude(file="")
    for document in uploads:
        enqueue_ingestion(document.pk, force=True)
    skipped = queryset.count() - uploads.count()
    modeladmin.message_user(
        request,
        f"{uploads.count()} document(s) queued for re-ingestion."
        + (f" {skipped} without a stored file (Drive documents are re-read by the next Drive sync; an upload "
           "that failed keeps no file and must be uploaded again)." if skipped else ""),
        messages.SUCCESS,
    )


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "source", "mime_type", "state", "chunk_count", "updated_at")
    list_filter = ("source", "state", "owner")
    search_fields = ("title", "source_id", "error")
    readonly_fields = ("content_hash", "error", "created_at", "updated_at")
    actions = [reingest_documents, retry_failed_document_chunks]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(chunk_total=Count("chunks"))

    @admin.display(description="Chunks", ordering="chunk_total")
    def chunk_count(self, document):
        return document.chunk_total


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "sync_status", "vectors", "sync_attempts", "next_attempt_at", "updated_at")
    list_filter = ("sync_status", "owner")
    search_fields = ("text",)
    exclude = ("dense_vector", "sparse_indices", "sparse_values")
    readonly_fields = ("last_sync_error", "vectors")
    actions = [retry_failed_chunks]
    # Shows the outbox health above the list (templates/admin/chunks/chunk/change_list.html).
    change_list_template = "admin/chunks/chunk/change_list.html"

    @admin.display(description="Staged vectors")
    def vectors(self, chunk):
        if chunk.dense_vector is None:
            return "none (in the vector store)" if chunk.sync_status == SyncStatus.SYNCED else "none"
        return f"dense {len(chunk.dense_vector)}d, sparse {len(chunk.sparse_indices or [])} terms"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "outbox_stats": stats(), "index_check": latest_index_check()}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(VectorDeletion)
class VectorDeletionAdmin(admin.ModelAdmin):
    list_display = ("qdrant_id", "owner_id", "attempts", "failed", "last_error", "created_at")
    list_filter = ("failed",)


@admin.register(IndexCheck)
class IndexCheckAdmin(admin.ModelAdmin):
    """The scheduled consistency checks' results (written by the check, never by hand)."""

    list_display = ("checked_at", "kind", "ok", "points", "synced", "missing", "orphans", "wrong_payload", "seconds")
    list_filter = ("ok", "kind")
    readonly_fields = [f.name for f in IndexCheck._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
