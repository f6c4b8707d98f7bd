"""The vector store's and the outbox's configuration mistakes as Django system checks
(`manage.py check`). Their ids keep the ragbase. prefix they were published with
(SILENCED_SYSTEM_CHECKS may name them)."""
from django.conf import settings
from django.core.checks import Error, Warning, register


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
def check_outbox_settings(app_configs, **kwargs):
    problems = []
    for name in ("OUTBOX_BATCH_SIZE", "OUTBOX_DRAIN_THREADS", "OUTBOX_MAX_ATTEMPTS"):
        value = getattr(settings, name)
        if value < 1:
            problems.append(
                Error(f"{name}={value} must be at least 1.", hint="See .env.example for the defaults.", id="ragbase.E012")
            )
    return problems
