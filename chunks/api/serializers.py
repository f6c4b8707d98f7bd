from rest_framework import serializers

from chunks.models import Document


class DocumentSerializer(serializers.ModelSerializer):
    """A document with its chunk counts (a queryset from chunks.selectors.documents_with_counts)."""

    chunks = serializers.IntegerField(read_only=True, source="chunk_count")
    chunks_pending = serializers.IntegerField(read_only=True, source="pending_count")

    class Meta:
        model = Document
        fields = [
            "id", "title", "source", "source_id", "mime_type", "url", "size_bytes", "state", "error",
            "modified_at", "created_at", "updated_at", "chunks", "chunks_pending",
        ]


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=100)
