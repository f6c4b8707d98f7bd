"""Reading and re-sealing a connection's refresh token; a token that cannot be opened puts the
connection in "needs reconnect" (fail closed: the stored bytes are never used)."""
import logging

from django.db import transaction

from drive.crypto import DecryptionError, current_key, key_id_of
from drive.models import DriveConnection

logger = logging.getLogger(__name__)

RECONNECT_MESSAGE = "The stored Google credentials could not be decrypted; please reconnect Google Drive."
REVOKED_MESSAGE = "Google refused the stored access (revoked or expired); please reconnect Google Drive."


def refresh_token_or_flag(connection: DriveConnection) -> str | None:
    """The plaintext refresh token, or None after flagging the connection for reconnect."""
    try:
        token = connection.refresh_token
    except DecryptionError as error:
        logger.warning("Drive connection %s: token refused (%s)", connection.pk, error)
        connection.mark_needs_reconnect(RECONNECT_MESSAGE)
        return None
    if token is None:
        connection.mark_needs_reconnect("No Google credentials are stored; please connect Google Drive.")
    return token


def rotate_connection_key(connection_id: int) -> bool:
    """Re-seal one connection's token under the current key. False if it could not be opened."""
    with transaction.atomic():
        connection = DriveConnection.objects.select_for_update().get(pk=connection_id)
        if not DriveConnection.refresh_token.is_set(connection) or connection.key_id == key_id_of(current_key()):
            return True
        token = refresh_token_or_flag(connection)
        if token is None:
            return False
        connection.refresh_token = token
        connection.save(update_fields=[*DriveConnection.refresh_token.column_names, "updated_at"])
        return True
