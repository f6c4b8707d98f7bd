import pytest


@pytest.fixture
def make_user(db, django_user_model):
    def make(name):
        return django_user_model.objects.create_user(name, password="pw-" + name)

    return make


@pytest.fixture
def add_document(vector_index, embedder):
    """Ingest a text document for a user; drained into the test's vector store unless drain_now=False."""
    from chunks.outbox.drain import drain
    from chunks.services.ingestion import ingest_content

    def add(owner, text, *, title="Doc", source_id=None, drain_now=True, **fields):
        document = ingest_content(
            owner=owner, source=fields.pop("source", "upload"), source_id=source_id or title,
            title=title, mime_type="text/plain", content=text.encode(), **fields,
        )
        if drain_now:
            drain()
        return document

    return add
