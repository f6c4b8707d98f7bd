"""The benchmark's table: rows recorded by the sections, printed and saved by run.py."""
import csv
import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

rows: list[tuple[str, str, str, float | str, str]] = []  # section, what, metric, value, unit


def record(section, what, metric, value, unit=""):
    rows.append((section, what, metric, round(value, 4) if isinstance(value, float) else value, unit))


def percentiles(samples_ms):
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def timed(what, calls) -> dict:
    """Record p50/p95/p99 of running each of `calls` once, under latency/`what`; returns them (ms)."""
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    measured = percentiles(samples)
    for k, v in measured.items():
        record("latency", what, k, v, "ms")
    return measured


def print_and_save(*, seconds: float, prefix: str = "", **meta):
    """Print the rows as a table and write them, with the machine and versions, to
    bench/results/<prefix><timestamp>.json and .csv."""
    meta = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), **meta,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(), "seconds": round(seconds, 1),
        "versions": {package: v for package in ("django", "fastembed", "qdrant-edge-py", "pgserver",
                                                "djangorestframework") if (v := _version(package))},
    }
    width = max(len(r[1]) for r in rows)
    print(f"{'section':<10} {'what':<{width}} {'metric':<16} value")
    for section, what, metric, value, unit in rows:
        print(f"{section:<10} {what:<{width}} {metric:<16} {value} {unit}")
    print(json.dumps(meta))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{prefix}{stamp}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    with (RESULTS / f"{prefix}{stamp}.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("section", "what", "metric", "value", "unit"), *rows])


def _version(package) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
