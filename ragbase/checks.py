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


# Connections Postgres keeps for superusers, and for operator commands run beside the server.
_RESERVED_CONNECTIONS = 3 + 5


def database_connections_needed() -> tuple[int, str]:
    """The most connections one installation's processes open, from settings, with the sum spelled
    out: the web server's pools (one per worker process), in embedded mode the store owner's
    drain and its LISTEN connection, and a django-q2 cluster (one per worker process, times the
    drain's threads where the workers drain, plus its sentinel, pusher and monitor)."""
    from chunks.vector_index import uses_embedded_store

    embedded = uses_embedded_store()
    per_worker = 1 if embedded else max(1, settings.OUTBOX_DRAIN_THREADS)
    owner = 2 if embedded else 0
    web = settings.GUNICORN_WORKERS * settings.DB_POOL_MAX_SIZE + owner
    cluster = settings.Q_CLUSTER["workers"] * per_worker + 3
    total = web + cluster + _RESERVED_CONNECTIONS
    return total, (f"web {settings.GUNICORN_WORKERS} × DB_POOL_MAX_SIZE {settings.DB_POOL_MAX_SIZE}"
                   f"{' + 2 store owner (drain, its listener)' if embedded else ''} + django-q2 {cluster} "
                   f"+ {_RESERVED_CONNECTIONS} reserved (superuser, commands) = {total}")


def connection_budget_errors(max_connections: int) -> list[Error]:
    total, spelled = database_connections_needed()
    if total <= max_connections:
        return []
    return [
        Error(
            f"ragbase may open {total} database connections ({spelled}), more than max_connections="
            f"{max_connections}: under load requests would fail with 'too many clients'.",
            hint="Lower DB_POOL_MAX_SIZE, GUNICORN_WORKERS or Q_WORKERS, or raise the server's max_connections "
                 "(and DB_MAX_CONNECTIONS). With several web or worker containers, each counts.",
            id="ragbase.E020",
        )
    ]


@register()
def check_database_connection_budget(app_configs, **kwargs):
    """Against DB_MAX_CONNECTIONS (the server's max_connections; `serve` also asks the server)."""
    return connection_budget_errors(settings.DB_MAX_CONNECTIONS)
