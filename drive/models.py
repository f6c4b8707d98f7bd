from django.conf import settings
from django.db import models

from drive.fields import EncryptedSecret


def _connection_associated_data(connection) -> bytes:
    # Binds a sealed token to its owner: copied to another user's row it does not open.
    return b"drive-connection-owner:%d" % connection.user_id


class DriveConnection(models.Model):
    """One user's Google Drive: the encrypted refresh token, the sync scope and the sync state."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISABLED = "disabled", "Disabled"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drive_connection")
    google_email = models.EmailField(blank=True)
    encrypted_refresh_token = models.BinaryField(default=b"", editable=False)
    token_iv = models.BinaryField(default=b"", editable=False)
    token_auth_tag = models.BinaryField(default=b"", editable=False)
    key_id = models.CharField(max_length=16, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED, db_index=True)
    status_message = models.TextField(blank=True)
    folder_ids = models.JSONField(default=list, blank=True,
                                  help_text="Chosen folders (each with everything below it); empty = the whole Drive.")
    include_shared_drives = models.BooleanField(default=False)
    synced_scope = models.JSONField(
        null=True, blank=True, default=None,
        help_text="Folder ids (chosen and below) the index matched at the last listing; null = whole Drive.")
    changes_page_token = models.CharField(max_length=255, blank=True, help_text="Drive changes cursor.")
    last_sync_at = models.DateTimeField(null=True, blank=True)
    files_indexed = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    refresh_token = EncryptedSecret(
        ciphertext_field="encrypted_refresh_token",
        iv_field="token_iv",
        tag_field="token_auth_tag",
        key_id_field="key_id",
        associated_data=_connection_associated_data,
    )

    def __str__(self):
        return f"{self.user} — {self.google_email or 'Google Drive'} ({self.status})"

    def mark_needs_reconnect(self, message: str) -> None:
        self.status = self.Status.NEEDS_RECONNECT
        self.status_message = message
        self.save(update_fields=["status", "status_message", "updated_at"])


class DriveFile(models.Model):
    """What sync knows of a Drive file beyond its Document: the md5 of the bytes last ingested
    (binary files only; Google-native files have no md5Checksum), so a file whose md5Checksum is
    unchanged is not downloaded again, and its type in Drive. Goes away with its Document."""

    document = models.OneToOneField("chunks.Document", on_delete=models.CASCADE, primary_key=True,
                                    related_name="drive_file")
    md5_checksum = models.CharField(max_length=32, blank=True)
    drive_mime_type = models.CharField(
        max_length=255, blank=True,
        help_text="The file's type in Drive (a Google Doc's, where the Document has the exported type); "
                  "blank for files synced before it was recorded.")

    def __str__(self):
        return f"{self.document_id}: md5 {self.md5_checksum or '—'}"


class SyncRun(models.Model):
    """One sync of a connection, from "Sync now" (or the schedule) until its Drive is up to date.

    The listing fills `SyncItem` rows in bounded slices, saving its position (`plan`) as it goes;
    processing tasks claim items in batches. At most one run per connection is active: a second
    "Sync now" joins it."""

    class Kind(models.TextChoices):
        FULL = "full", "Full listing"
        CHANGES = "changes", "Changes since the last sync"

    class Phase(models.TextChoices):
        LISTING = "listing", "Listing files"
        PROCESSING = "processing", "Processing files"
        WAITING = "waiting", "Waiting to retry"
        DONE = "done", "Up to date"
        STOPPED = "stopped", "Stopped"

    ACTIVE_PHASES = (Phase.LISTING, Phase.PROCESSING, Phase.WAITING)

    connection = models.ForeignKey(DriveConnection, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=10, choices=Kind.choices, blank=True)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.LISTING, db_index=True)
    scope = models.JSONField(null=True, blank=True, default=None,
                             help_text="Folder ids this run lists (chosen and below); null = whole Drive.")
    plan = models.JSONField(default=list, blank=True,
                            help_text="The listing's queries and the page token each has reached.")
    start_page_token = models.CharField(max_length=255, blank=True,
                                        help_text="Changes cursor taken before a full listing; stored at the end.")
    new_changes_token = models.CharField(max_length=255, blank=True,
                                         help_text="Where the changes feed ended; stored at the end.")
    listing_done = models.BooleanField(default=False)
    listing_complete = models.BooleanField(
        default=True, help_text="False when Google returned an incomplete listing: nothing is pruned, "
                                "the cursor is not stored, the next sync lists in full again.")
    pages_listed = models.PositiveIntegerField(default=0)
    listing_ticket = models.UUIDField(null=True, blank=True, editable=False,
                                      help_text="The listing task allowed to run; an older queued one exits.")
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_claim_at = models.DateTimeField(null=True, blank=True, help_text="Fairness: the run served longest ago goes first.")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Waiting: when the run is resumed.")
    unreachable_at = models.DateTimeField(null=True, blank=True, help_text="When Google last could not be reached.")
    unreachable_count = models.PositiveIntegerField(default=0)
    progress_mark = models.BigIntegerField(default=0, help_text="Pages listed + items finished, at progress_at.")
    progress_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection"], condition=models.Q(phase__in=["listing", "processing", "waiting"]),
                                    name="one_active_sync_per_connection"),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"sync {self.pk} of {self.connection_id} ({self.phase})"

    @property
    def is_active(self) -> bool:
        return self.phase in self.ACTIVE_PHASES


class SyncItem(models.Model):
    """One file of a run: to bring up to date (ingest) or to take out of the index (remove).
    Processing claims items with a lease; a killed worker's lease runs out and the item is taken again."""

    class Action(models.TextChoices):
        INGEST = "ingest", "Ingest"
        REMOVE = "remove", "Remove"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Being processed"
        DONE = "done", "Done"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        INGESTED = "ingested", "Ingested"
        SKIPPED = "skipped", "Unchanged"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Removed"
        ABSENT = "absent", "Nothing to remove"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    file_id = models.CharField(max_length=255)
    file = models.JSONField(default=dict, blank=True, help_text="The file's metadata from the listing.")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.INGEST)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True, default=Outcome.NONE)
    estimated_chunks = models.PositiveIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "file_id"], name="one_item_per_file_per_run")]
        indexes = [models.Index(fields=["run", "id"], condition=models.Q(state__in=["queued", "claimed"]),
                                name="sync_item_open")]

    def __str__(self):
        return f"{self.file.get('name') or self.file_id} ({self.action}, {self.state})"


class ProcessingLane(models.Model):
    """One of the DRIVE_PROCESSING_TASKS processing tasks that may run at once (on any machine).
    A lane's task claims batches of any run, hands itself on at its time bound with a new ticket,
    and stops when there is nothing to claim; a lane whose heartbeat is stale is started again,
    and a queued task holding an old ticket exits at once."""

    number = models.PositiveSmallIntegerField(primary_key=True)
    ticket = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"lane {self.number} ({'busy' if self.ticket else 'idle'})"
