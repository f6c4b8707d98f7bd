from django.db.models import Count, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from chunks.outbox.enqueue import delete_document
from chunks.models import Document, SyncStatus
from chunks.services.ingestion import queue_upload
from chunks.uploads import upload_refusal


class DocumentSerializer(serializers.ModelSerializer):
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


def documents_with_counts(user):
    return Document.objects.filter(owner=user).annotate(
        chunk_count=Count("chunks"),
        pending_count=Count("chunks", filter=Q(chunks__sync_status=SyncStatus.PENDING)),
    )


# The path id is the document's integer primary key (the schema cannot derive it: the queryset needs a user).
_DOCUMENT_ID = extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])


@extend_schema_view(retrieve=_DOCUMENT_ID, destroy=_DOCUMENT_ID)
class DocumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's own documents. Uploads return at once with the documents queued."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return documents_with_counts(self.request.user).order_by("-updated_at")

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={202: DocumentSerializer(many=True)})
    def create(self, request):
        files = request.FILES.getlist("files")
        if refusal := upload_refusal(request):
            return Response({"detail": refusal}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload = UploadSerializer(data={"files": files})
        upload.is_valid(raise_exception=True)
        documents = [queue_upload(owner=request.user, uploaded_file=f) for f in upload.validated_data["files"]]
        queued = documents_with_counts(request.user).filter(pk__in=[d.pk for d in documents])
        return Response(DocumentSerializer(queued, many=True).data, status=status.HTTP_202_ACCEPTED)

    def perform_destroy(self, instance):
        delete_document(document=instance)
