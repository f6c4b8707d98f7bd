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


class DocumentFilterSerializer(serializers.Serializer):
    """What `GET /api/documents/` (and the documents page) can filter on."""

    state = serializers.ChoiceField(choices=Document.State.choices, required=False)
    source = serializers.ChoiceField(choices=Document.Source.choices, required=False)
    q = serializers.CharField(max_length=200, required=False, help_text="Part of the title (case-insensitive).")


class BulkActionSerializer(serializers.Serializer):
    """`POST /api/documents/bulk/`: delete these documents, or re-ingest the failed ones among them."""

    action = serializers.ChoiceField(choices=["delete", "reingest"])
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=1000,
                                help_text="Ids of the caller's documents; any other id refuses the whole request.")


class DeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class ReingestionSerializer(serializers.Serializer):
    """What a re-ingestion did (chunks.services.reingestion.Reingestion)."""

    queued = serializers.IntegerField(help_text="Failed documents queued again (pushed, re-read or fetched again).")
    not_failed = serializers.IntegerField(help_text="Chosen documents that had not failed (left as they are).")
    impossible = serializers.ListField(
        child=serializers.CharField(),
        help_text="Titles of failed documents nothing can re-read: an unreadable upload is not kept (upload it "
                  "again); a Drive file needs a connected Drive.")
    summary = serializers.CharField()
