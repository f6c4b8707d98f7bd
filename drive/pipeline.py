"""social-auth pipeline steps: connecting a Drive needs a logged-in user, and the refresh token
goes straight into the encrypted DriveConnection.

No step writes a token anywhere else: social-auth's `load_extra_data` step is left out of the
pipeline (it would write the access and refresh tokens into `UserSocialAuth.extra_data`, and a
later scrub would leave that row version in the WAL and as a dead tuple), and the backend's
`extra_data()` returns nothing (drive.auth), so the association row only ever holds provider and
uid. The access token from the code exchange lives in memory for the length of the request."""
from social_core.exceptions import AuthPolicyError

from drive.models import DriveConnection

# Keys of Google's token response; none of them may be stored outside DriveConnection.
TOKEN_KEYS = ("access_token", "refresh_token", "id_token")


def require_logged_in_user(backend, user=None, *args, **kwargs):
    if user is None or not user.is_authenticated:
        raise AuthPolicyError(backend, "Log in to ragbase before connecting Google Drive.")


def store_drive_connection(backend, user, response, details, *args, **kwargs):
    connection = DriveConnection.objects.filter(user=user).first() or DriveConnection(user=user)
    email = details.get("email") or response.get("email", "")
    if connection.google_email and connection.google_email != email:
        connection.changes_page_token = ""  # another account: start with a full listing
    connection.google_email = email
    refresh_token = response.get("refresh_token")
    if refresh_token:
        connection.refresh_token = refresh_token  # sealed here, before the row is written
    if DriveConnection.refresh_token.is_set(connection):
        connection.status, connection.status_message = DriveConnection.Status.CONNECTED, ""
    else:
        connection.status = DriveConnection.Status.NEEDS_RECONNECT
        connection.status_message = "Google sent no refresh token; please connect again and grant offline access."
    connection.save()
    return {"drive_connection": connection}
