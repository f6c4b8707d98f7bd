import pytest

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.services.ingestion import IngestItem, ingest_batch, ingest_content
from chunks.tests.files import docx_bytes, pdf_bytes
from ragbase.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return make_user("ingester")


def ingest(owner, content, mime="text/plain", source_id="f1", title="Notes"):
    return ingest_content(owner=owner, source="upload", source_id=source_id, title=title, mime_type=mime, content=content)


def test_text_becomes_pending_chunks_with_staged_vectors(owner, embedder):
    document = ingest(owner, b"Statins lower cholesterol.\n\nExercise helps the heart too.")
    assert document.state == Document.State.READY and document.error == ""
    chunks = list(document.chunks.all())
    assert chunks and all(c.sync_status == SyncStatus.PENDING for c in chunks)
    assert all(len(c.dense_vector) == embedder.dense_dim for c in chunks)
    assert all(c.sparse_indices and len(c.sparse_indices) == len(c.sparse_values) for c in chunks)
    assert chunks[0].owner_id == owner.id and chunks[0].metadata["title"] == "Notes"


@pytest.mark.parametrize(
    "content, mime, phrase",
    [
        (pdf_bytes(["Mitochondria are the powerhouse"]), "application/pdf", "Mitochondria"),
        (docx_bytes(["Quarterly revenue grew strongly"]), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "revenue"),
        (b"<p>Hello <b>HTML</b> world</p>", "text/html", "HTML"),
        (b"city,population\nParis,2100000\n", "text/csv", "Paris"),
        (b"# Heading\n\nMarkdown body", "text/markdown", "Markdown body"),
    ],
)
def test_every_format_is_chunked(owner, content, mime, phrase):
    document = ingest(owner, content, mime=mime)
    assert document.state == Document.State.READY
    assert phrase in " ".join(document.chunks.values_list("text", flat=True))


def test_pdf_chunks_record_their_page(owner):
    document = ingest(owner, pdf_bytes(["alpha page", "beta page"]), mime="application/pdf")
    chunk = document.chunks.get()
    assert (chunk.metadata["page"], chunk.metadata["page_end"]) == (1, 2)


def test_unchanged_file_does_no_work(owner):
    first = ingest(owner, b"same content here")
    ids = set(first.chunks.values_list("qdrant_id", flat=True))
    second = ingest(owner, b"same content here")
    assert second.pk == first.pk and set(second.chunks.values_list("qdrant_id", flat=True)) == ids
    assert not VectorDeletion.objects.exists()


def test_changed_file_replaces_its_chunks_through_the_outbox(owner):
    old_ids = set(ingest(owner, b"old version of the text").chunks.values_list("qdrant_id", flat=True))
    document = ingest(owner, b"new version, quite different words")
    assert "new version" in document.chunks.get().text
    assert set(VectorDeletion.objects.values_list("qdrant_id", flat=True)) == old_ids
    assert not Chunk.objects.filter(qdrant_id__in=old_ids).exists()


def test_empty_document_is_a_clear_state_not_an_error(owner):
    document = ingest(owner, b"   \n\n  ")
    assert document.state == Document.State.EMPTY and not document.chunks.exists()


@pytest.mark.reliability
def test_a_broken_file_fails_alone_and_the_batch_goes_on(owner):
    items = [
        IngestItem(owner, "upload", "good1", "Good one", "text/plain", b"first good file"),
        IngestItem(owner, "upload", "bad", "Bad", "application/pdf", b"%PDF-1.4 not really"),
        IngestItem(owner, "upload", "zero", "Zero", "text/plain", b""),
        IngestItem(owner, "upload", "good2", "Good two", "text/plain", b"second good file"),
    ]
    documents = {d.source_id: d for d in ingest_batch(items=items)}
    assert documents["good1"].state == documents["good2"].state == Document.State.READY
    assert documents["bad"].state == Document.State.FAILED and "PDF" in documents["bad"].error
    assert documents["zero"].state == Document.State.FAILED and "empty" in documents["zero"].error
    assert Document.objects.get(source_id="bad").error == documents["bad"].error


def test_a_failed_new_version_keeps_the_old_chunks(owner):
    ingest(owner, b"readable first version", mime="text/plain")
    document = ingest(owner, b"%PDF-1.4 broken", mime="application/pdf")
    assert document.state == Document.State.FAILED
    assert document.chunks.get().text == "readable first version"
