"""Prometheus series summed over every process of one server.

prometheus_client keeps a process's values in its own memory, so with several gunicorn workers
each scrape of /metrics would answer for whichever worker took it, and the outbox drain's counters
(kept by `serve` in embedded mode) for none. With PROMETHEUS_MULTIPROC_DIR naming a folder when
prometheus_client is imported, each process writes its values to files there instead, and
/metrics (ragbase.metrics) reads them all: its multiprocess mode. `manage.py serve` and the
gunicorn configuration give their process tree one new folder before Django loads.
"""
import os
import shutil
import tempfile

FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_with_child_processes() -> str | None:
    """Make a new private folder for the series of this process and those it starts, unless an
    ancestor made one (it is in the environment). Call before Django loads. Returns the folder
    made here, which the caller removes when it exits (remove_shared_metrics)."""
    if os.environ.get(FOLDER_VARIABLE):
        return None
    folder = tempfile.mkdtemp(prefix=f"ragbase-metrics-{os.getpid()}-")  # see ragbase.temp_leftovers
    os.environ[FOLDER_VARIABLE] = folder
    return folder


def metrics_are_shared() -> bool:
    return bool(os.environ.get(FOLDER_VARIABLE))


def remove_shared_metrics(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
