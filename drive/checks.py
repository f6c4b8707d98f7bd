"""Drive's configuration and data mistakes as Django system checks (`manage.py check`). The sync
settings' ids keep the ragbase. prefix they were published with (SILENCED_SYSTEM_CHECKS may name them)."""
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
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


@register()
def check_drive_task_bound_fits_the_timeout(app_configs, **kwargs):
    timeout = settings.Q_CLUSTER["timeout"]
    problems = []
    if not 0 < settings.DRIVE_TASK_SECONDS <= timeout / 2:
        problems.append(Error(
            f"DRIVE_TASK_SECONDS={settings.DRIVE_TASK_SECONDS} must be positive and at most half of "
            f"Q_TIMEOUT_SECONDS={timeout}: the rest is room for the Google call or embedding slice in "
            "flight when a sync task reaches its bound, before django-q2 would kill it.",
            hint=f"Set DRIVE_TASK_SECONDS to at most {timeout // 2}, or raise Q_TIMEOUT_SECONDS.",
            id="ragbase.E013"))
    for name in ("DRIVE_PROCESSING_TASKS", "DRIVE_BATCH_FILES", "DRIVE_BATCH_CHUNKS", "DRIVE_LISTING_PAGES_PER_TASK"):
        if getattr(settings, name) < 1:
            problems.append(Error(f"{name}={getattr(settings, name)} must be at least 1.",
                                  hint="See .env.example for the defaults.", id="ragbase.E014"))
    if not 1 <= settings.DRIVE_PAGE_SIZE <= 1000:
        problems.append(Error(f"DRIVE_PAGE_SIZE={settings.DRIVE_PAGE_SIZE}: Google accepts 1 to 1000.",
                              hint="1000 (the default) lists a large Drive in the fewest calls.", id="ragbase.E015"))
    return problems
