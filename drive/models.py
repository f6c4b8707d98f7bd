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
    unchanged is not downloaded again. Goes away with its Document."""

    document = models.OneToOneField("chunks.Document", on_delete=models.CASCADE, primary_key=True,
                                    related_name="drive_file")
    md5_checksum = models.CharField(max_length=32, blank=True)

    def __str__(self):
        return f"{self.document_id}: md5 {self.md5_checksum or '—'}"
