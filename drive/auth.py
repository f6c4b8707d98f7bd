"""social-auth's Google OAuth2 backend with its endpoints taken from settings (tests point them at
a fake Google). Used only to connect a Drive to the logged-in user, never to log in."""
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.urls import reverse
from social_core.backends.google import GoogleOAuth2

NOT_CONFIGURED_MESSAGE = (
    "Google Drive is not set up on this server: the operator must set GOOGLE_OAUTH_CLIENT_ID and "
    "GOOGLE_OAUTH_CLIENT_SECRET (a Google Cloud OAuth client, see docs/drive.md) and restart ragbase."
)


def drive_is_configured() -> bool:
    return bool(settings.GOOGLE_OAUTH_CLIENT_ID and settings.GOOGLE_OAUTH_CLIENT_SECRET)


def allow_connect_form(response):
    """The connect form's POST is answered by a redirect to Google's consent page, which the
    Content-Security-Policy's form-action must allow on the page that holds the form."""
    authorize = urlsplit(settings.GOOGLE_AUTH_URI)
    response._csp_update = {"form-action": [f"{authorize.scheme}://{authorize.netloc}"]}
    return response


class GoogleDriveOAuth2(GoogleOAuth2):
    def start(self):
        # Without a client, Google would only show an error page about an empty client_id.
        if not drive_is_configured():
            messages.error(self.strategy.request, NOT_CONFIGURED_MESSAGE)
            return self.strategy.redirect(reverse("drive:page"))
        return super().start()

    def authorization_url(self) -> str:
        return settings.GOOGLE_AUTH_URI

    def access_token_url(self) -> str:
        return settings.GOOGLE_TOKEN_URI

    def revoke_token_url(self, token, uid) -> str:
        return settings.GOOGLE_REVOKE_URI

    def extra_data(self, user, uid, response, details, pipeline_kwargs):
        # social-auth would keep the access and refresh tokens in UserSocialAuth.extra_data, in
        # plaintext; the refresh token lives sealed in DriveConnection instead (drive.pipeline).
        return {}

    def user_data(self, access_token, *args, **kwargs):
        response = self.get_json(settings.GOOGLE_USERINFO_URI, headers={"Authorization": f"Bearer {access_token}"})
        self.validate_email_verified(response)
        return response
