"""`manage.py rechunk`: documents chunked before heading paths existed get them from their stored
uploads or ingested paths, through the outbox; unchanged ones are left alone (a second run does
nothing); a broken one fails alone and keeps its chunks; a dry run counts and changes nothing."""
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from chunks.models import Chunk, Document, SyncStatus, VectorDeletion
from chunks.services.ingestion import ingest_content

pytestmark = pytest.mark.django_db

GUIDE = b"# Install\n\nGet it first.\n\nFrom source\n-----------\n\nClone the repository.\n"
NOTES = b"Plain notes without any heading at all."


def upload(owner, name, content, mime_type):
    document = ingest_content(owner=owner, source=Document.Source.UPLOAD, source_id=name, title=name,
                              mime_type=mime_type, content=content)
    document.file.save(name, ContentFile(content))
    return document


def as_before_heading_paths(document, text=None):
    """The document's chunks as chunked before heading paths were recorded: no `headings` key."""
    for chunk in document.chunks.all():
        chunk.metadata.pop("headings")
        chunk.text = text or chunk.text
        chunk.sync_status, chunk.dense_vector = SyncStatus.SYNCED, None
        chunk.save()


def rechunk(*args):
    out = StringIO()
    call_command("rechunk", *args, "--yes", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_old_documents_get_heading_paths_through_the_outbox_and_a_second_run_does_nothing(
        make_user, embedder, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ann = make_user("ann")
    guide = upload(ann, "guide.md", GUIDE, "text/markdown")
    (tmp_path / "notes.md").write_bytes(GUIDE.replace(b"Install", b"Setup"))
    call_command("ingest", str(tmp_path / "notes.md"), owner="ann", verbosity=0)
    from_path = Document.objects.get(source_id__startswith="path:")
    plain = upload(ann, "notes.txt", NOTES, "text/plain")
    for document in (guide, from_path):
        as_before_heading_paths(document, text="# old text with the heading lines in it")
    as_before_heading_paths(plain)
    old = set(Chunk.objects.filter(document__in=[guide, from_path]).values_list("qdrant_id", flat=True))
    plain_chunks = set(plain.chunks.values_list("qdrant_id", flat=True))

    out = rechunk("--lacking-headings")
    assert "2 documents re-chunked: 4 chunks embedded" in out and "1 unchanged" in out
    assert {c.text: c.metadata["headings"] for c in guide.chunks.all()} == {
        "Get it first.": ["Install"], "Clone the repository.": ["Install", "From source"]}
    assert [c.metadata["headings"] for c in from_path.chunks.all()] == [["Setup"], ["Setup", "From source"]]
    assert set(Chunk.objects.filter(document__in=[guide, from_path]).values_list("sync_status", flat=True)) == {
        SyncStatus.PENDING}
    assert old <= set(VectorDeletion.objects.values_list("qdrant_id", flat=True))  # the old ones leave
    # The plain text's chunks were the same: kept (no embedding, no outbox), recorded as having no heading.
    assert set(plain.chunks.values_list("qdrant_id", flat=True)) == plain_chunks
    assert [c.metadata["headings"] for c in plain.chunks.all()] == [[]]

    deletions = VectorDeletion.objects.count()
    assert "no document to re-chunk" in rechunk("--lacking-headings")
    assert "0 documents re-chunked" in rechunk("--all") and VectorDeletion.objects.count() == deletions


def test_a_broken_document_fails_alone_and_keeps_its_chunks(make_user, embedder, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ann = make_user("ann")
    good = upload(ann, "good.md", GUIDE, "text/markdown")
    gone = upload(ann, "gone.md", GUIDE, "text/markdown")
    gone.file.storage.delete(gone.file.name)
    corrupt = upload(ann, "report.pdf", b"", "application/pdf")  # failed at ingestion: not indexed
    bad = ingest_content(owner=ann, source="upload", source_id="bad", title="bad.md", mime_type="text/markdown",
                         content=GUIDE)
    bad.file.save("bad.md", ContentFile(b"\x00\x01binary now"))
    for document in (good, gone, bad):
        as_before_heading_paths(document)
    kept = {d.pk: set(d.chunks.values_list("qdrant_id", flat=True)) for d in (gone, bad)}
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 documents could not be re-chunked"):
        call_command("rechunk", "--all", "--yes", stdout=out, stderr=err)
    assert corrupt.state == Document.State.FAILED
    assert "1 documents re-chunked" in out.getvalue() and "2 failed" in out.getvalue()
    assert [c.metadata["headings"] for c in good.chunks.all()] == [["Install"], ["Install", "From source"]]
    for document in (gone, bad):
        document.refresh_from_db()
        assert document.state == Document.State.READY
        assert set(document.chunks.values_list("qdrant_id", flat=True)) == kept[document.pk]


def test_a_failure_says_why(make_user, embedder, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ann = make_user("ann")
    bad = upload(ann, "bad.md", GUIDE, "text/markdown")
    bad.file.save("bad.md", ContentFile(b"\x00\x01binary now"))
    text_only = ingest_content(owner=ann, source="upload", source_id="beir-1", title="abstract", mime_type="text/plain",
                               content=NOTES)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rechunk", "--document", str(bad.pk), "--document", str(text_only.pk), "--yes", stdout=out)
    printed = out.getvalue()
    assert (f"failed: document {bad.pk} “bad.md” (ann): could not be read again (its chunks are kept): "
            "the file looks binary") in printed
    assert f"failed: document {text_only.pk} “abstract” (ann): ragbase keeps no copy of its content" in printed


def test_dry_run_counts_and_estimates_and_changes_nothing(make_user, embedder, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ann, bob = make_user("ann"), make_user("bob")
    mine = upload(ann, "guide.md", GUIDE, "text/markdown")
    theirs = upload(bob, "guide.md", GUIDE, "text/markdown")
    for document in (mine, theirs):
        as_before_heading_paths(document)
    before = list(Chunk.objects.order_by("pk").values_list("qdrant_id", "metadata"))
    out = rechunk("--user", "ann", "--dry-run")
    assert "1 documents to re-chunk: 2 chunks to embed" in out and "chunks/s" in out and "nothing was changed" in out
    assert list(Chunk.objects.order_by("pk").values_list("qdrant_id", "metadata")) == before
    assert not VectorDeletion.objects.exists()
    out = rechunk("--user", "bob")
    assert "1 documents re-chunked" in out and mine.chunks.filter(metadata__has_key="headings").count() == 0
    with pytest.raises(CommandError, match="choose the documents"):
        rechunk()
    with pytest.raises(CommandError, match="no user named carl"):
        rechunk("--user", "carl")
