"""social-auth's Google OAuth2 backend with its endpoints taken from settings (tests point them at
a fake Google). Used only to connect a Drive to the logged-in user, never to log in."""
from django.conf import settings
from social_core.backends.google import GoogleOAuth2


class GoogleDriveOAuth2(GoogleOAuth2):
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
