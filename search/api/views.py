from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from chunks.vector_index import VectorStoreUnavailable
from search.api.serializers import ErrorSerializer, SearchRequestSerializer, SearchResponseSerializer
from search.services import SearchFilters, search


class SearchView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "search"

    @extend_schema(
        parameters=[SearchRequestSerializer],
        responses={200: SearchResponseSerializer, 503: ErrorSerializer},
    )
    def get(self, request):
        return self._search(request, request.query_params)

    @extend_schema(
        request=SearchRequestSerializer,
        responses={200: SearchResponseSerializer, 503: ErrorSerializer},
    )
    def post(self, request):
        return self._search(request, request.data)

    def _search(self, request, data):
        params = SearchRequestSerializer(data=data)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        try:
            result = search(
                user=request.user,
                query=p["q"],
                mode=p["mode"],
                top_k=p["top_k"],
                filters=SearchFilters(
                    document_ids=p.get("document"),
                    sources=p.get("source"),
                    mime_types=p.get("mime_type"),
                    modified_after=p.get("modified_after"),
                ),
                context_chunks=p["context"],
            )
        except VectorStoreUnavailable:
            return Response(
                {"detail": "Search is temporarily unavailable: the vector store cannot be reached. Try again shortly."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        first = (p["page"] - 1) * p["page_size"]
        page_hits = result.hits[first : first + p["page_size"]]
        more = first + p["page_size"] < len(result.hits)
        # The response is built directly (SearchResponseSerializer documents it; the schema tests
        # hold the two together): serializing already-typed values cost ~4 ms a request.
        return Response(
            {
                "query": result.query,
                "mode": result.mode,
                "count": len(result.hits),
                "page": p["page"],
                "next_page": p["page"] + 1 if more else None,
                "pending_chunks": result.pending_chunks,
                "took_ms": round(result.took_ms, 2),
                "results": [dict(vars(hit)) for hit in page_hits],
            }
        )
