from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from chunks.vector_index import VectorStoreUnavailable
from search.api.serializers import (
    NO_GROUPING,
    DocumentSearchResponseSerializer,
    ErrorSerializer,
    SearchRequestSerializer,
    SearchResponseSerializer,
)
from search.services import SearchFilters, search, search_documents

RESPONSES = {
    200: PolymorphicProxySerializer(
        component_name="SearchResults",
        serializers={"document": DocumentSearchResponseSerializer, "none": SearchResponseSerializer},
        resource_type_field_name="group",
    ),
    503: ErrorSerializer,
}


def _passage(hit) -> dict:
    return {
        "chunk_id": hit.chunk_id, "score": hit.score, "page": hit.page, "headings": hit.headings, "link": hit.link,
        "ordinal": hit.ordinal, "snippet": hit.snippet, "text": hit.text, "dense_rank": hit.dense_rank, "sparse_rank": hit.sparse_rank,
        "matched_words": hit.matched_words, "context_before": hit.context_before, "context_after": hit.context_after,
    }


def _document(result) -> dict:
    best = result.best
    return {
        "document_id": best.document_id, "title": best.title, "source": best.source, "source_id": best.source_id,
        "mime_type": best.mime_type, "url": best.url, "score": best.score, "passage": _passage(best),
        "more_passages": [_passage(hit) for hit in result.more],
    }


class SearchView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "search"

    @extend_schema(parameters=[SearchRequestSerializer], responses=RESPONSES)
    def get(self, request):
        return self._search(request, request.query_params)

    @extend_schema(request=SearchRequestSerializer, responses=RESPONSES)
    def post(self, request):
        return self._search(request, request.data)

    def _search(self, request, data):
        params = SearchRequestSerializer(data=data)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        common = dict(
            user=request.user,
            query=p["q"],
            mode=p["mode"],
            fusion=p.get("fusion"),
            filters=SearchFilters(
                document_ids=p.get("document"),
                sources=p.get("source"),
                mime_types=p.get("mime_type"),
                modified_after=p.get("modified_after"),
            ),
            context_chunks=p["context"],
        )
        try:
            if p["group"] == NO_GROUPING:
                return Response(self._chunks(search(top_k=p["top_k"], **common), p))
            result = search_documents(page=p["page"], page_size=p["page_size"], more_passages=p["passages"], **common)
        except VectorStoreUnavailable:
            return Response(
                {"detail": "Search is temporarily unavailable: the vector store cannot be reached. Try again shortly."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        # Responses are built directly (the serializers document them; the schema tests hold the
        # two together): serializing already-typed values cost ~4 ms a request.
        return Response(
            {
                "group": p["group"],
                "query": result.query,
                "mode": result.mode,
                "fusion": result.fusion,
                "count": result.count,
                "page": result.page,
                "next_page": result.next_page,
                "pending_chunks": result.pending_chunks,
                "took_ms": round(result.took_ms, 2),
                "results": [_document(d) for d in result.documents],
            }
        )

    @staticmethod
    def _chunks(result, p) -> dict:
        first = (p["page"] - 1) * p["page_size"]
        more = first + p["page_size"] < len(result.hits)
        return {
            "group": NO_GROUPING,
            "query": result.query,
            "mode": result.mode,
            "fusion": result.fusion,
            "count": len(result.hits),
            "page": p["page"],
            "next_page": p["page"] + 1 if more else None,
            "pending_chunks": result.pending_chunks,
            "took_ms": round(result.took_ms, 2),
            "results": [dict(vars(hit)) for hit in result.hits[first : first + p["page_size"]]],
        }
