"""The embedded PostgreSQL used when DATABASE_URL is not set (a real server from the pgserver wheel)."""
from pathlib import Path


def embedded_database_url(data_dir: Path, *, cleanup_mode: str = "stop") -> str:
    """Start (or attach to) the pgserver instance in data_dir and return its URL.

    Several processes may share one data dir: the second attaches to the running server, and
    the server stops when the last process using it exits.
    """
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode=cleanup_mode).get_uri()
