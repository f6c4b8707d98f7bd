"""The `load` section of bench/run.py: real `manage.py serve --no-workers` processes on loopback —
the production server (gunicorn) and, side by side in the same run, Django's development server
(`serve --dev`) — hammered on /api/search/ by client threads with a token or a logged-in session.

For each corpus size (synthetic chunks drained into the bench's embedded store, which is then
handed to the server): the floor measured in this process just before (query embedding + the
engine's hybrid query: its p50, and its searches/s in as many threads as the server has with
their CPU per search; beside it the floor with the grouped search's own engine request), one
client's API p50 against both, then req/s (also as a share of the floor's searches/s), p50 and
p99 at 20 and 50 clients with each kind of auth, and the CPU each kind of process spent per
request meanwhile. Then a soak of the production server (RSS of serve, the store's owner, and of
its largest worker process at the start and the end), and optionally a sweep of GUNICORN_THREADS."""
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests
import urllib3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from knox.models import AuthToken

from chunks.vector_index import ensure_index_ready, reset_vector_index
from floor import search_floor, search_floor_throughput

ROOT = Path(__file__).resolve().parents[1]
SERVERS = {"gunicorn": [], "runserver": ["--dev"]}
PASSWORD = "load-bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`manage.py serve --no-workers [--dev]` of the checkout at `root` in its own process group,
    stopped with SIGTERM."""

    def __init__(self, name: str, log: Path, *, root: Path = ROOT, **env):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(root / "manage.py"), "serve", "--no-workers", *SERVERS[name], f"127.0.0.1:{self.port}"],
            cwd=root, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 300  # indexing at start: ~0.6 s per 1,000 new chunks
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening, or workers still booting
                if self.process.poll() is not None:
                    raise RuntimeError(f"{name} exited during start-up, see {log}: {log.read_text()[-300:]}")
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{name} did not start in 300 s")

    def rss_mib(self) -> dict:
        """RSS in MiB of `serve` itself (in embedded mode the store's owner), of its largest other
        process (a gunicorn worker) and of all of them together (shared pages counted in each)."""
        serve = psutil.Process(self.process.pid)
        others = [p.memory_info().rss / 2**20 for p in serve.children(recursive=True)]
        own = serve.memory_info().rss / 2**20
        return {"serve": own, "largest worker": max(others, default=0.0), "all processes": own + sum(others)}

    def cpu_seconds(self) -> dict:
        """CPU seconds so far (user + system) of `serve` itself, of its other processes (gunicorn
        and its workers), of PostgreSQL's processes and of this process (the load's client)."""
        serve = psutil.Process(self.process.pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            postmaster = psutil.Process(psutil.Process(cursor.fetchone()[0]).ppid())
        kinds = {"serve": [serve], "its other processes": serve.children(recursive=True),
                 "PostgreSQL": [postmaster, *postmaster.children()], "load client": [psutil.Process()]}
        cpu = {kind: sum(_cpu(p) for p in processes) for kind, processes in kinds.items()}
        # Backends that have ended (runserver's threads each had one) count in their parent's total.
        ended = postmaster.cpu_times()
        cpu["PostgreSQL"] += ended.children_user + ended.children_system
        return cpu

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(60)


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:  # ended between the listing and now
        return 0.0
    return times.user + times.system


def hammer_counting_cpu(record, what: str, server: Server, **load) -> dict:
    """`hammer(**load)`'s result, recording under `what` the CPU ms it cost per successful request:
    each kind of process (Server.cpu_seconds) and all of them, the host's idle CPU meanwhile (ms
    per request, all cores), and the req/s that all of the host's cores would serve at that cost."""
    before, idle_before = server.cpu_seconds(), psutil.cpu_times().idle
    result = hammer(**load)
    after, idle_after = server.cpu_seconds(), psutil.cpu_times().idle
    n = max(result["requests"], 1)
    costs = {kind: (after[kind] - before[kind]) * 1000 / n for kind in before}
    costs["all of them"] = sum(costs.values())
    costs["idle (the host's cores)"] = (idle_after - idle_before) * 1000 / n
    for kind, ms in costs.items():
        record("load", what, f"CPU per request, {kind}", ms, "ms")
    record("load", what, "req/s at that CPU cost on all cores", psutil.cpu_count() * 1000 / costs["all of them"],
           "req/s")
    return result


def login(url: str, username: str) -> str:
    """A session id from the real login page."""
    session = requests.Session()
    page = session.get(f"{url}/accounts/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    session.post(f"{url}/accounts/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
                 headers={"Referer": f"{url}/accounts/login/"}, allow_redirects=False, timeout=30)
    return session.cookies["sessionid"]


def hammer(*, url: str, auth: dict, queries: list[str], clients: int, seconds: float = None, total: int = None) -> dict:
    """Each client loops over the queries for `seconds` (or until `total` requests are done);
    returns throughput, latency percentiles and errors by reason."""
    latencies: list[float] = []
    reasons: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds else None
    remaining = [total]

    def more() -> bool:
        if stop_at is not None:
            return time.monotonic() < stop_at
        with lock:
            remaining[0] -= 1
            return remaining[0] >= 0

    target = urlsplit(url)
    headers = dict(auth.get("headers", {}))
    if auth.get("cookies"):
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in auth["cookies"].items())

    def client(offset):
        # urllib3 itself, one keep-alive connection a client: the client threads share the server's
        # 2 cores, and requests on top of it cost twice the CPU (1.2 against 0.6 ms a request).
        connection_pool = urllib3.HTTPConnectionPool(target.hostname, target.port, maxsize=1, retries=False,
                                                     timeout=60)
        i = offset
        while more():
            started = time.perf_counter()
            try:
                status = connection_pool.request("GET", target.path, fields={"q": queries[i % len(queries)]},
                                                 headers=headers).status
                reason = None if status == 200 else f"HTTP {status}"
            except urllib3.exceptions.HTTPError as exc:
                reason = type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if reason:
                    reasons[reason] = reasons.get(reason, 0) + 1
                else:
                    latencies.append(elapsed)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return {"requests": len(latencies), "errors": sum(reasons.values()), "reasons": reasons,
            "rps": len(latencies) / wall, "p50": q[49], "p99": q[98]}


def floors(user, queries, *, seconds: float) -> tuple[dict, tuple[float, float]]:
    """The floors' p50s (ms; bench/floor.py's search_floor) and the floor's throughput (searches/s
    with the server's thread count, and CPU ms per search), both in this process, over the store as
    the server will search it: indexed, as `serve` does at start. The store is then released for
    the server."""
    ensure_index_ready().optimize()
    latency = search_floor(user, queries)
    throughput = search_floor_throughput(user, queries, threads=settings.GUNICORN_THREADS, seconds=seconds)
    reset_vector_index()  # the server process must own the embedded store
    connections.close_all()
    return latency, throughput


def section(record, *, add_chunks, sizes, seconds, soak_requests, thread_counts, log_dir: Path, queries):
    """`add_chunks(user, n)` adds n synthetic chunks of `user` to the store (drained)."""
    os.environ.update(SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false")  # plain http on loopback
    user = get_user_model().objects.create_user("load", password=PASSWORD)
    token = AuthToken.objects.create(user=user)[1]
    url = "/api/search/"
    total = 0
    for size in sizes:
        add_chunks(user, size - total)
        total = size
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE chunks_chunk")
        floor_p50s, (floor_rps, floor_cpu) = floors(user, queries[:100], seconds=seconds / 2)
        floor, grouped_floor = floor_p50s["floor"], floor_p50s["grouped_floor"]
        record("load", f"floor @{size}: query embedding + engine, p50", "p50", floor, "ms")
        record("load", f"floor @{size}: query embedding + the grouped search's engine request, p50", "p50",
               grouped_floor, "ms")
        record("load", f"floor @{size}: query embedding + engine, {settings.GUNICORN_THREADS} threads", "rps",
               floor_rps, "req/s")
        record("load", f"floor @{size}: query embedding + engine, {settings.GUNICORN_THREADS} threads",
               "CPU per search", floor_cpu, "ms")
        for name in SERVERS:
            server = Server(name, log_dir / f"serve-{name}-{size}.log")
            try:
                auths = {"token": {"headers": {"Authorization": f"Token {token}"}},
                         "session": {"cookies": {"sessionid": login(server.url, "load")}}}
                one = hammer(url=server.url + url, auth=auths["token"], queries=queries, clients=1, seconds=seconds / 2)
                record("load", f"{name} @{size}, 1 client", "API p50", one["p50"], "ms")
                record("load", f"{name} @{size}, 1 client", "API p50 / floor", one["p50"] / floor, "x")
                record("load", f"{name} @{size}, 1 client", "API p50 / grouped floor", one["p50"] / grouped_floor, "x")
                for clients in (20, 50):
                    for auth, credentials in auths.items():
                        what = f"{name} @{size}, {clients} clients, {auth}"
                        result = hammer_counting_cpu(record, what, server, url=server.url + url, auth=credentials,
                                                     queries=queries, clients=clients, seconds=seconds)
                        for metric, unit in (("rps", "req/s"), ("p50", "ms"), ("p99", "ms"), ("errors", ""),
                                             ("requests", "")):
                            record("load", what, metric, result[metric], unit)
                        record("load", what, "rps / floor rps", result["rps"] / floor_rps, "x")
                        if result["reasons"]:
                            print(f"[load] {what}: errors {result['reasons']}", flush=True)
                if name == "gunicorn" and size == sizes[-1] and soak_requests:
                    before = server.rss_mib()
                    what = f"gunicorn @{size}, soak of {soak_requests} requests, 20 clients"
                    result = hammer_counting_cpu(record, what, server, url=server.url + url, auth=auths["token"],
                                                 queries=queries, clients=20, total=soak_requests)
                    after = server.rss_mib()
                    for process, mib in before.items():
                        record("load", what, f"RSS start, {process}", mib, "MiB")
                        record("load", what, f"RSS end, {process}", after[process], "MiB")
                    record("load", what, "rps", result["rps"], "req/s")
                    record("load", what, "errors", result["errors"])
            finally:
                server.stop()
    for threads in thread_counts:  # GUNICORN_THREADS, at the last size, token auth
        server = Server("gunicorn", log_dir / f"serve-threads-{threads}.log", GUNICORN_THREADS=str(threads))
        try:
            for clients in (20, 50):
                result = hammer(url=server.url + url, auth={"headers": {"Authorization": f"Token {token}"}},
                                queries=queries, clients=clients, seconds=seconds)
                what = f"gunicorn @{total}, GUNICORN_THREADS={threads}, {clients} clients"
                for metric, unit in (("rps", "req/s"), ("p50", "ms"), ("p99", "ms"), ("errors", "")):
                    record("load", what, metric, result[metric], unit)
        finally:
            server.stop()
