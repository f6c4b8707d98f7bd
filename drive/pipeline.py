"""social-auth pipeline steps: connecting a Drive needs a logged-in user, and the refresh token
goes straight into the encrypted DriveConnection — social-auth's extra_data keeps no token."""
from social_core.exceptions import AuthPolicyError

from drive.models import DriveConnection

TOKEN_KEYS = ("access_token", "refresh_token", "id_token")


def require_logged_in_user(backend, user=None, *args, **kwargs):
    if user is None or not user.is_authenticated:
        raise AuthPolicyError(backend, "Log in to ragbase before connecting Google Drive.")


def store_drive_connection(backend, user, response, details, social=None, *args, **kwargs):
    connection, _ = DriveConnection.objects.get_or_create(user=user)
    email = details.get("email") or response.get("email", "")
    if connection.google_email and connection.google_email != email:
        connection.changes_page_token = ""  # another account: start with a full listing
    connection.google_email = email
    refresh_token = response.get("refresh_token")
    if refresh_token:
        connection.refresh_token = refresh_token
    if DriveConnection.refresh_token.is_set(connection):
        connection.status, connection.status_message = DriveConnection.Status.CONNECTED, ""
    else:
        connection.status = DriveConnection.Status.NEEDS_RECONNECT
        connection.status_message = "Google sent no refresh token; please connect again and grant offline access."
    connection.save()
    if social is not None and any(key in social.extra_data for key in TOKEN_KEYS):
        social.extra_data = {k: v for k, v in social.extra_data.items() if k not in TOKEN_KEYS}
        social.save(update_fields=["extra_data"])
    return {"drive_connection": connection}
