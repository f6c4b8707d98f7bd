from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from chunks.api.serializers import DocumentSerializer, UploadSerializer
from chunks.outbox.enqueue import delete_document
from chunks.selectors import documents_with_counts
from chunks.uploads import queue_upload, upload_refusal

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
