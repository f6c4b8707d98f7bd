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


@register(Tags.database, Tags.security)
def check_no_tokens_in_social_auth_extra_data(app_configs, databases=None, **kwargs):
    """Rows written by an earlier ragbase still holding Google tokens in plaintext. A database
    check: it runs in `migrate` (so at every `serve` start) and `check --database default`, not
    in every management command."""
    from social_django.models import UserSocialAuth

    if not databases:
        return []
    holds_a_token = Q()
    for key in TOKEN_KEYS:
        holds_a_token |= Q(extra_data__has_key=key)
    count = 0
    for alias in databases:
        try:
            count += UserSocialAuth.objects.using(alias).filter(holds_a_token).count()
        except DatabaseError:  # not migrated yet: nothing stored to warn about
            continue
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
