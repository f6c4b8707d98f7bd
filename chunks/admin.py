from django.contrib import admin, messages

from chunks.models import Chunk, Document, VectorDeletion
from chunks.outbox_ops import outbox_health, retry_failed


@admin.action(description="Retry pushing FAILED chunks to the vector store")
def retry_failed_chunks(modeladmin, request, queryset):
    count = retry_failed(chunks=Chunk.objects.filter(pk__in=queryset.values("pk")))
    modeladmin.message_user(request, f"{count} failed chunk(s) queued again.", messages.SUCCESS)


@admin.action(description="Retry pushing the FAILED chunks of these documents")
def retry_failed_document_chunks(modeladmin, request, queryset):
    count = retry_failed(chunks=Chunk.objects.filter(document__in=queryset))
    modeladmin.message_user(request, f"{count} failed chunk(s) queued again.", messages.SUCCESS)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "source", "mime_type", "state", "updated_at")
    list_filter = ("source", "state", "owner")
    search_fields = ("title", "source_id")
    actions = [retry_failed_document_chunks]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "sync_status", "sync_attempts", "next_attempt_at", "updated_at")
    list_filter = ("sync_status", "owner")
    search_fields = ("text",)
    exclude = ("dense_vector", "sparse_indices", "sparse_values")
    readonly_fields = ("last_sync_error",)
    actions = [retry_failed_chunks]
    # Shows the outbox health above the list (templates/admin/chunks/chunk/change_list.html).
    change_list_template = "admin/chunks/chunk/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "outbox_health": outbox_health()}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(VectorDeletion)
class VectorDeletionAdmin(admin.ModelAdmin):
    list_display = ("qdrant_id", "owner_id", "attempts", "failed", "last_error", "created_at")
    list_filter = ("failed",)
