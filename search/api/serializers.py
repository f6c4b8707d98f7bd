from rest_framework import serializers

from chunks.models import Document
from chunks.vector_index import SearchMode
from search.services import DEFAULT_MODE, MAX_QUERY_CHARS, MAX_TOP_K, default_top_k


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
    top_k = serializers.IntegerField(min_value=1, max_value=MAX_TOP_K, default=default_top_k)
    mode = serializers.ChoiceField(choices=[m.value for m in SearchMode], default=DEFAULT_MODE.value)
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


class SearchHitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    score = serializers.FloatField()
    title = serializers.CharField()
    source = serializers.CharField()
    source_id = serializers.CharField()
    mime_type = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    page = serializers.IntegerField(allow_null=True)
    ordinal = serializers.IntegerField()
    snippet = serializers.CharField(help_text="HTML-escaped excerpt; matched terms in <mark>.")
    text = serializers.CharField()
    context_before = serializers.ListField(child=serializers.CharField())
    context_after = serializers.ListField(child=serializers.CharField())


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    mode = serializers.CharField()
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)
    pending_chunks = serializers.IntegerField(help_text="Your chunks not yet searchable (waiting in the outbox).")
    took_ms = serializers.FloatField()
    results = SearchHitSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
