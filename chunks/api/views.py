from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from chunks.api.serializers import DocumentFilterSerializer, DocumentSerializer, UploadSerializer
from chunks.outbox.enqueue import delete_document
from chunks.selectors import documents_with_counts, filtered_documents
from chunks.uploads import queue_upload, upload_refusal

# The path id is the document's integer primary key (the schema cannot derive it: the queryset needs a user).
_DOCUMENT_ID = extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])


class DocumentPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        # A page that does not exist is a bad parameter (400 by field), not a missing resource.
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            raise ValidationError({"page": [str(exc.detail)]}) from None


@extend_schema_view(
    list=extend_schema(parameters=[DocumentFilterSerializer]), retrieve=_DOCUMENT_ID, destroy=_DOCUMENT_ID
)
class DocumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's own documents. Uploads return at once with the documents queued."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]
    pagination_class = DocumentPagination

    def get_queryset(self):
        if self.action != "list":
            return documents_with_counts(self.request.user)
        filters = DocumentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        return filtered_documents(
            self.request.user, state=wanted.get("state"), source=wanted.get("source"), title=wanted.get("q")
        )

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
