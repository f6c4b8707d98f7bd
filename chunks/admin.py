from django.contrib import admin

from chunks.models import Chunk, Document, VectorDeletion


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "source", "mime_type", "state", "updated_at")
    list_filter = ("source", "state", "owner")
    search_fields = ("title", "source_id")


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "sync_status", "sync_attempts", "updated_at")
    list_filter = ("sync_status", "owner")
    search_fields = ("text",)
    exclude = ("dense_vector", "sparse_indices", "sparse_values")


@admin.register(VectorDeletion)
class VectorDeletionAdmin(admin.ModelAdmin):
    list_display = ("qdrant_id", "owner_id", "attempts", "failed", "created_at")
