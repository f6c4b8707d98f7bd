"""Load test: a real `manage.py serve --no-workers` subprocess on loopback, N client threads hitting
/api/search/ with a DRF token for a bounded time. Used as the `load` section of bench/run.py (which
prepares the corpus, releases the embedded store and passes its environment to the server)."""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--no-workers", f"127.0.0.1:{port}"],
        cwd=ROOT, env=dict(os.environ), stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/search/", timeout=2)
            return server
        except requests.ConnectionError:
            if server.poll() is not None:
                raise RuntimeError(f"server exited during start-up, see {log}: {log.read_text()[-300:]}")
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("server did not start in 120 s")


def hammer(*, url: str, token: str, queries: list[str], clients: int, seconds: float) -> dict:
    """Each client loops over the queries until the time is up; returns throughput, latency, errors."""
    latencies: list[float] = []
    errors = [0]
    reasons: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset):
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        i = offset
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                status = session.get(url, params={"q": queries[i % len(queries)]}, timeout=30).status_code
                ok, reason = status == 200, f"HTTP {status}"
            except requests.RequestException as exc:
                ok, reason = False, type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed) if ok else None
                errors[0] += not ok
                if not ok:
                    reasons[reason] = reasons.get(reason, 0) + 1
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    if reasons:
        print(f"[load] {clients} clients: errors by reason {reasons}", flush=True)
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / wall, "p50": q[49], "p99": q[98]}
