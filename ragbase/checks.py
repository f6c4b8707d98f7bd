"""The project's configuration mistakes as Django system checks (`manage.py check`): the database, the
django-q2 cluster, the hosts. Each app registers its own (chunks.checks, drive.checks)."""
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.database, deploy=False)
def check_database_is_postgres(app_configs, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return [
            Error(
                f"DATABASE_URL points at {engine}; ragbase needs PostgreSQL "
                "(row locks with SKIP LOCKED, LISTEN/NOTIFY, JSONB).",
                hint="Unset DATABASE_URL to use the embedded PostgreSQL, or point it at a Postgres server.",
                id="ragbase.E001",
            )
        ]
    return []


@register()
def check_q_retry_exceeds_timeout(app_configs, **kwargs):
    cluster = settings.Q_CLUSTER
    if cluster["retry"] <= cluster["timeout"]:
        return [
            Error(
                f"Q_RETRY_SECONDS={cluster['retry']} is not greater than Q_TIMEOUT_SECONDS={cluster['timeout']}: "
                "django-q2 would start a slow task again while it is still running.",
                hint="Set Q_RETRY_SECONDS above Q_TIMEOUT_SECONDS (e.g. timeout + 60).",
                id="ragbase.E010",
            )
        ]
    return []


@register(Tags.security)
def check_allowed_hosts_in_production(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    hosts = settings.ALLOWED_HOSTS
    if not hosts or "*" in hosts:
        return [
            Error(
                f"ALLOWED_HOSTS={hosts!r} with DEBUG off: set the host names this site answers to.",
                hint="For example ALLOWED_HOSTS=ragbase.example.com",
                id="ragbase.E011",
            )
        ]
    return []
