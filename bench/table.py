"""The benchmark's table: rows recorded by the sections, printed and saved by run.py."""
import statistics
import time

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
