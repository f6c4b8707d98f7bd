import threading

from rest_framework import serializers

from chunks.models import Document
from chunks.vector_index import FUSION_SYNTAX, Fusion, SearchMode
from search.services import (
    DEFAULT_MODE,
    DEFAULT_MORE_PASSAGES,
    MAX_MORE_PASSAGES,
    MAX_QUERY_CHARS,
    MAX_TOP_K,
    default_top_k,
)

GROUP_BY_DOCUMENT, NO_GROUPING = "document", "none"

_bound_query_fields = threading.local()


class CommaSeparatedList(serializers.ListField):
    """Accepts ?source=a,b as well as repeated ?source=a&source=b."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [part for part in data.split(",") if part]
        elif isinstance(data, list) and len(data) == 1 and isinstance(data[0], str):
            data = [part for part in data[0].split(",") if part]
        return super().to_internal_value(data)


class SearchRequestSerializer(serializers.Serializer):
    q = serializers.CharField(min_length=1, max_length=MAX_QUERY_CHARS, trim_whitespace=True)
    group = serializers.ChoiceField(
        choices=[GROUP_BY_DOCUMENT, NO_GROUPING], default=GROUP_BY_DOCUMENT,
        help_text="document: one result per document (its best passage and more_passages more), ranked by its "
        "best chunk, among the SEARCH_GROUP_DEPTH best chunks; none: the top_k best chunks.",
    )
    passages = serializers.IntegerField(
        min_value=0, max_value=MAX_MORE_PASSAGES, default=DEFAULT_MORE_PASSAGES,
        help_text="group=document: how many more matching passages of each document to return.",
    )
    top_k = serializers.IntegerField(
        min_value=1, max_value=MAX_TOP_K, default=default_top_k, help_text="group=none: how many chunks to return."
    )
    mode = serializers.ChoiceField(choices=[m.value for m in SearchMode], default=DEFAULT_MODE.value)
    fusion = serializers.CharField(
        required=False, max_length=100,
        help_text=f"mode=hybrid: how the dense and the sparse leg are merged, {FUSION_SYNTAX}. RRF scores a passage "
        "1/(k - 1 + rank/weight) in each leg; DBSF sums the legs' normalised scores. Default: the server's "
        "SEARCH_FUSION (see the README's evaluation table).",
    )
    # Document ids are bigint primary keys: larger values cannot name a document.
    document = CommaSeparatedList(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=100
    )
    source = CommaSeparatedList(child=serializers.ChoiceField(choices=Document.Source.choices), required=False)
    mime_type = CommaSeparatedList(child=serializers.CharField(max_length=255), required=False, max_length=20)
    modified_after = serializers.DateTimeField(required=False)
    context = serializers.IntegerField(min_value=0, max_value=3, default=0)
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=10)

    @property
    def fields(self):
        """The declared fields, copied and bound once per thread. DRF deep-copies every declared field
        for each new serializer (0.27 of the 0.32 ms a validation took here, for these 13), yet
        validating a value keeps nothing in a field, so one thread's requests can share a copy (its
        parent stays the thread's first serializer). Threads must not: binding sets a field's
        attributes."""
        fields = getattr(_bound_query_fields, "fields", None)
        if fields is None:
            fields = _bound_query_fields.fields = super().fields
        return fields

    def validate_fusion(self, value) -> Fusion:
        try:
            return Fusion.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class PassageSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    score = serializers.FloatField()
    page = serializers.IntegerField(allow_null=True)
    headings = serializers.ListField(
        child=serializers.CharField(),
        help_text="The headings above the passage, outermost first (Markdown, HTML); empty where the document has none.",
    )
    link = serializers.CharField(
        allow_blank=True, help_text="The original at the passage's page (url#page=N for PDFs); blank without a url."
    )
    ordinal = serializers.IntegerField()
    snippet = serializers.CharField(help_text="HTML-escaped excerpt; matched terms in <mark>.")
    text = serializers.CharField()
    dense_rank = serializers.IntegerField(
        allow_null=True, help_text="Rank among the dense (meaning) leg's candidates; null: not among them."
    )
    sparse_rank = serializers.IntegerField(
        allow_null=True, help_text="Rank among the sparse (keyword) leg's candidates; null: not among them."
    )
    matched_words = serializers.ListField(
        child=serializers.CharField(), help_text="Words of the text that matched a query term (stemmed, no stop words)."
    )
    context_before = serializers.ListField(child=serializers.CharField())
    context_after = serializers.ListField(child=serializers.CharField())


class DocumentFieldsSerializer(serializers.Serializer):
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    source = serializers.CharField()
    source_id = serializers.CharField()
    mime_type = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


class SearchHitSerializer(DocumentFieldsSerializer, PassageSerializer):
    """A chunk hit (group=none): the passage with its document's fields."""


class DocumentResultSerializer(DocumentFieldsSerializer):
    score = serializers.FloatField(help_text="The score of the document's best chunk.")
    passage = PassageSerializer(help_text="The document's best matching passage.")
    more_passages = PassageSerializer(many=True, help_text="Its next matching passages, in rank order.")


class _ResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    mode = serializers.CharField()
    fusion = serializers.CharField(
        allow_null=True, help_text="The fusion the hybrid mode used; null in a single-leg mode.")
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)
    pending_chunks = serializers.IntegerField(help_text="Your chunks not yet searchable (waiting in the outbox).")
    took_ms = serializers.FloatField()


class DocumentSearchResponseSerializer(_ResponseSerializer):
    group = serializers.ChoiceField(choices=[GROUP_BY_DOCUMENT])
    count = serializers.IntegerField(help_text="Documents found (among the SEARCH_GROUP_DEPTH best chunks).")
    results = DocumentResultSerializer(many=True)


class SearchResponseSerializer(_ResponseSerializer):
    group = serializers.ChoiceField(choices=[NO_GROUPING])
    results = SearchHitSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
