from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from chunks.api.serializers import (
    BulkActionSerializer,
    DeletedSerializer,
    DocumentFilterSerializer,
    DocumentSerializer,
    ReingestionSerializer,
    UploadSerializer,
)
from chunks.models import Document
from chunks.outbox.enqueue import delete_document, delete_documents
from chunks.selectors import documents_with_counts, filtered_documents
from chunks.services.reingestion import Reingestion, reingest_failed
from chunks.uploads import queue_upload, upload_refusal

# The path id is the document's integer primary key (the schema cannot derive it: the queryset needs a user).
_ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH)
_DOCUMENT_ID = extend_schema(parameters=[_ID_PARAMETER])


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

    @extend_schema(request=BulkActionSerializer,
                   responses={200: PolymorphicProxySerializer(
                       component_name="BulkActionResult", serializers=[DeletedSerializer, ReingestionSerializer],
                       resource_type_field_name=None)})
    @action(detail=False, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def bulk(self, request):
        """Delete the given documents (their chunks leave the index through the outbox), or
        re-ingest the failed ones among them. Only the caller's own: another id refuses it all."""
        wanted = BulkActionSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        ids = set(wanted.validated_data["ids"])
        documents = Document.objects.filter(owner=request.user, pk__in=ids)
        if documents.count() != len(ids):
            raise ValidationError({"ids": ["Some of these documents are not yours or no longer exist; "
                                           "nothing was changed."]})
        if wanted.validated_data["action"] == "delete":
            return Response({"deleted": delete_documents(documents=documents)})
        return Response(_reingestion(reingest_failed(owner=request.user, documents=documents)))

    @extend_schema(request=None, responses={200: ReingestionSerializer}, parameters=[_ID_PARAMETER])
    @action(detail=True, methods=["post"])
    def reingest(self, request, pk=None):
        """Re-ingest this document if its processing failed (fetched or read again, or its chunks
        pushed to the index again)."""
        document = self.get_object()
        report = reingest_failed(owner=request.user, documents=Document.objects.filter(pk=document.pk))
        return Response(_reingestion(report))


def _reingestion(report: Reingestion) -> dict:
    return {"queued": report.queued, "not_failed": report.not_failed, "impossible": report.impossible,
            "summary": report.summary()}
