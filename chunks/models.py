import uuid

from django.conf import settings
from django.db import models

from chunks.fields import PackedArrayField


class Document(models.Model):
    """One file a user owns (an upload or a Drive file), the unit that is extracted and chunked."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        DRIVE = "drive", "Google Drive"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        EMPTY = "empty", "Empty (no text)"
        FAILED = "failed", "Failed"

    # The states of a document whose current content is indexed (searchable once its chunks are pushed).
    INDEXED_STATES = (State.READY, State.EMPTY)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents")
    source = models.CharField(max_length=16, choices=Source.choices)
    source_id = models.CharField(max_length=255, help_text="Drive file id, or a generated id for uploads.")
    title = models.CharField(max_length=1024)
    mime_type = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=2048, blank=True, help_text="Link to the original (Drive webViewLink).")
    file = models.FileField(upload_to="uploads/%Y/%m/", blank=True, help_text="Stored upload awaiting ingestion.")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="sha256 of the extracted source bytes.")
    modified_at = models.DateTimeField(null=True, blank=True, help_text="Modified time at the source.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "source", "source_id"], name="unique_document_per_owner_source")
        ]
        ordering = ["-updated_at"]

    def __str__(self):
        return self.title


class SyncStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SYNCED = "SYNCED", "Synced"
    FAILED = "FAILED", "Failed"


class Chunk(models.Model):
    """A piece of a document's text. Its vectors wait here (PENDING) until the outbox has pushed
    them to the vector store; then they are set to NULL and the row keeps only text and metadata."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    # No plain index: every drained chunk would update it; the partial indexes below serve the
    # queries that look for PENDING rows.
    sync_status = models.CharField(max_length=8, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    dense_vector = PackedArrayField(typecode="f", null=True, blank=True)
    sparse_indices = PackedArrayField(typecode="I", null=True, blank=True)
    sparse_values = PackedArrayField(typecode="f", null=True, blank=True)
    # Assigned once when the row is created and never changed, so every push of this row
    # addresses the same point and a re-push after a crash is idempotent.
    qdrant_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sync_attempts = models.PositiveIntegerField(default=0)
    last_sync_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="unique_chunk_ordinal_per_document")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(sync_status="PENDING"),
                name="chunk_pending_queue",
            ),
            # "n chunks not yet searchable" on every search: only PENDING rows are in it.
            models.Index(fields=["owner"], condition=models.Q(sync_status="PENDING"), name="chunk_pending_by_owner"),
        ]
        ordering = ["document_id", "ordinal"]

    def __str__(self):
        return f"{self.document_id}#{self.ordinal}"


class VectorDeletion(models.Model):
    """Outbox entry for a point that must leave the vector store (its chunk row is gone)."""

    qdrant_id = models.UUIDField(unique=True)
    owner_id = models.BigIntegerField(db_index=True)
    document_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return str(self.qdrant_id)


class IndexCheck(models.Model):
    """The result of a Postgres ⇄ vector store consistency check (chunks.services.index_check):
    the scheduled light check or `manage.py check_index`; the newest is shown in the admin's outbox
    panel and /readyz details."""

    class Kind(models.TextChoices):
        LIGHT = "light", "Light (counts per owner)"
        FULL = "full", "Full (ids and payloads)"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LIGHT)
    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    points = models.BigIntegerField(null=True, help_text="Points in the store.")
    synced = models.BigIntegerField(null=True, help_text="SYNCED chunks in Postgres.")
    missing = models.BigIntegerField(null=True, help_text="SYNCED chunks the store lacks (at least).")
    orphans = models.BigIntegerField(null=True, help_text="Points no chunk accounts for (at least).")
    wrong_payload = models.BigIntegerField(null=True, help_text="Points whose payload disagrees (full check).")
    seconds = models.FloatField(null=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self):
        return f"{self.kind} check at {self.checked_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'disagrees'}"
