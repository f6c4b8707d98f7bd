"""Disconnecting a Drive: revoke at Google, forget the credentials, remove its documents."""
import logging

import requests
from django.conf import settings
from django.db import transaction

from chunks.outbox.enqueue import delete_document
from drive.crypto import DecryptionError
from drive.models import DriveConnection, SyncRun
from drive.selectors import drive_documents

logger = logging.getLogger(__name__)


def revoke_at_google(connection: DriveConnection) -> bool:
    try:
        token = connection.refresh_token
    except DecryptionError:
        return False
    if not token:
        return False
    try:
        response = requests.post(settings.GOOGLE_REVOKE_URI, data={"token": token}, timeout=10)
    except requests.RequestException as error:
        logger.warning("Revoking the Drive grant of connection %s failed: %s", connection.pk, type(error).__name__)
        return False
    return response.status_code == 200


REVOKED_BY_ADMIN_MESSAGE = "An administrator revoked this Drive's Google grant; please reconnect Google Drive."


def revoke_grant(*, connection: DriveConnection) -> bool:
    """Revoke the grant at Google and forget the sealed token; the documents stay, and the user's
    next connect brings a new token (sync resumes from the stored cursor). True if Google said so."""
    revoked = revoke_at_google(connection)
    connection.refresh_token = None
    connection.status = DriveConnection.Status.NEEDS_RECONNECT
    connection.status_message = REVOKED_BY_ADMIN_MESSAGE
    connection.save(update_fields=[*DriveConnection.refresh_token.column_names, "status", "status_message",
                                   "updated_at"])
    return revoked


def disconnect(*, user) -> int:
    """Revoke, delete the connection (and social-auth's association) and the user's Drive documents."""
    connection = DriveConnection.objects.filter(user=user).first()
    if connection is not None:
        revoke_at_google(connection)
    removed = 0
    with transaction.atomic():
        # A processing task writing a batch holds its run FOR SHARE: this waits for that write,
        # and a later one finds the run gone instead of writing documents back.
        list(SyncRun.objects.select_for_update().filter(connection__user=user).values_list("pk", flat=True))
        for document in drive_documents(user):
            delete_document(document=document)
            removed += 1
        DriveConnection.objects.filter(user=user).delete()
        user.social_auth.filter(provider="google-oauth2").delete()
    return removed
