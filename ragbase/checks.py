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
