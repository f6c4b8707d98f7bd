"""Drive's configuration and data mistakes as Django system checks (`manage.py check`)."""
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from django.db.models import Q

from drive.auth import drive_is_configured
from drive.pipeline import TOKEN_KEYS


@register(Tags.security, deploy=True)
def check_google_oauth_client(app_configs, **kwargs):
    if drive_is_configured():
        return []
    return [
        Warning(
            "Google Drive is not set up: GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET are not both set, "
            "so users cannot connect a Drive (the Drive page says so).",
            hint="Create an OAuth client (docs/drive.md) and set both, or silence drive.W001 with "
                 "SILENCED_SYSTEM_CHECKS=drive.W001 if this server indexes uploads only.",
            id="drive.W001",
        )
    ]


@register(Tags.security)
def check_no_tokens_in_social_auth_extra_data(app_configs, **kwargs):
    """Rows written by an earlier ragbase still holding Google tokens in plaintext."""
    from social_django.models import UserSocialAuth

    holds_a_token = Q()
    for key in TOKEN_KEYS:
        holds_a_token |= Q(extra_data__has_key=key)
    try:
        count = UserSocialAuth.objects.filter(holds_a_token).count()
    except DatabaseError:  # no database yet, or not migrated: nothing stored to warn about
        return []
    if not count:
        return []
    return [
        Warning(
            f"{count} social-auth association(s) still hold Google tokens in plaintext in extra_data "
            "(written by an earlier version of ragbase).",
            hint="Follow 'Google tokens stored by an earlier version' in docs/deploy.md: revoke and reconnect, "
                 "VACUUM FULL social_auth_usersocialauth, rotate WAL archives and backups.",
            id="drive.W002",
        )
    ]
