"""Configuration mistakes reported as Django system checks (`manage.py check`)."""
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.database, deploy=False)
def check_database_is_postgres(app_configs, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return [
            Error(
                f"DATABASE_URL points at {engine}; ragbase needs PostgreSQL "
                "(row locks with SKIP LOCKED, array columns).",
                hint="Unset DATABASE_URL to use the embedded PostgreSQL, or point it at a Postgres server.",
                id="ragbase.E001",
            )
        ]
    return []


@register()
def check_vector_store_settings(app_configs, **kwargs):
    problems = []
    if settings.VECTOR_DB_PROVIDER != "qdrant":
        problems.append(
            Error(
                f"VECTOR_DB_PROVIDER={settings.VECTOR_DB_PROVIDER!r} is not supported.",
                hint="Use 'qdrant' (the only provider).",
                id="ragbase.E002",
            )
        )
    if settings.QDRANT_URL and not settings.QDRANT_URL.startswith(("http://", "https://")):
        problems.append(
            Error(
                f"QDRANT_URL={settings.QDRANT_URL!r} is not an http(s) URL.",
                hint="For example http://qdrant:6333; leave it unset for the embedded engine.",
                id="ragbase.E003",
            )
        )
    if settings.QDRANT_API_KEY and settings.QDRANT_URL.startswith("http://") and not settings.DEBUG:
        problems.append(
            Warning(
                "QDRANT_API_KEY is sent over plain http.",
                hint="Use https for a Qdrant server outside a private network.",
                id="ragbase.W001",
            )
        )
    return problems


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


@register()
def check_outbox_settings(app_configs, **kwargs):
    problems = []
    for name in ("OUTBOX_BATCH_SIZE", "OUTBOX_DRAIN_THREADS", "OUTBOX_MAX_ATTEMPTS"):
        value = getattr(settings, name)
        if value < 1:
            problems.append(
                Error(f"{name}={value} must be at least 1.", hint="See .env.example for the defaults.", id="ragbase.E012")
            )
    return problems


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
