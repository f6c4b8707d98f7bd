"""`manage.py serve` from outside: a real serve process on a free loopback port (serve owning the
embedded store, gunicorn's workers reaching it through serve's socket, the django-q2 cluster),
clients over HTTP with token and session auth, a worker killed under load, SIGTERM to the whole
process group under load, and a restart that finishes what was queued."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import AuthenticationError, Client
from pathlib import Path

import psutil
import pytest
import requests
from django.core.management import call_command
from knox.models import AuthToken

from chunks.models import Chunk, Document, SyncStatus
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from ragbase.testing import ROOT, make_user, manage_env, subprocess_database_url

WORKERS = 2
THREADS = 4
POOL = 3  # fewer connections than threads: requests must wait for one, not fail
STOP_BOUND_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """One `manage.py serve` (restartable) in its own session, so the test can signal its group."""

    def __init__(self, folder: Path, env: dict, *options: str):
        self.folder, self.env, self.options = folder, env, options
        self.process = None
        self.log = folder / "serve.log"
        self.runs = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.port, self.runs = free_port(), self.runs + 1
        self.log = self.folder / f"serve-{self.runs}.log"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", *self.options, f"127.0.0.1:{self.port}"], cwd=ROOT, env=self.env,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening, or workers still booting
                time.sleep(0.2)
        self.stop()  # no serve outlives the test session
        raise AssertionError(f"serve did not become ready:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tree(self) -> list[psutil.Process]:
        return [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]

    def sigterm_group(self):
        os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            processes = self.tree()
            self.sigterm_group()
            self.process.wait(STOP_BOUND_SECONDS)
            psutil.wait_procs(processes, timeout=STOP_BOUND_SECONDS)


def serve_env(folder: Path) -> dict:
    """serve on this test session's database, with its own var folder, its own temp folder (where
    it keeps its socket and metrics folders, and removes those of killed servers) and a small pool."""
    (folder / "tmp").mkdir()
    return manage_env(
        folder, DATABASE_URL=subprocess_database_url(), QDRANT_PATH=str(folder / "qdrant"),
        TMPDIR=str(folder / "tmp"),
        DEBUG="false", SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false", ALLOWED_HOSTS="127.0.0.1",
        Q_SYNC="false", Q_TIMEOUT_SECONDS="20", Q_RETRY_SECONDS="25", DRIVE_TASK_SECONDS="5", OUTBOX_POLL_SECONDS="1",
        GUNICORN_WORKERS=str(WORKERS), GUNICORN_THREADS=str(THREADS), DB_POOL_MAX_SIZE=str(POOL), DB_POOL_MIN_SIZE="1", GUNICORN_GRACEFUL_TIMEOUT="10",
        SEARCH_THROTTLE_RATE="1000000/min", RAGBASE_ADMIN_PASSWORD="admin-pw-for-serve-tests", LOG_LEVEL="INFO",
    )


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    with django_db_blocker.unblock():
        server = Served(folder, serve_env(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)  # what serve and the tests wrote


@pytest.fixture(scope="module")
def credentials(served, django_db_blocker):
    """A user's API token and a session from the real login page."""
    with django_db_blocker.unblock():
        user = make_user("sam")
        token = AuthToken.objects.create(user=user)[1]
    session = requests.Session()
    login = session.get(f"{served.url}/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
    answer = session.post(f"{served.url}/accounts/login/", timeout=10, allow_redirects=False,
                          data={"username": "sam", "password": "pw-sam", "csrfmiddlewaretoken": csrf},
                          headers={"Referer": f"{served.url}/accounts/login/"})
    assert answer.status_code == 302, answer.text[:500]
    return {"token": token, "sessionid": session.cookies["sessionid"]}


def client(credentials, auth: str) -> requests.Session:
    session = requests.Session()
    if auth == "token":
        session.headers["Authorization"] = f"Token {credentials['token']}"
    else:
        session.cookies.set("sessionid", credentials["sessionid"])
    return session


def gunicorn_workers(served) -> list[psutil.Process]:
    master = next(p for p in served.tree() if "gunicorn" in " ".join(p.cmdline()))
    return master.children()


def test_serve_runs_gunicorn_workers_that_reach_the_store_through_serve(served):
    output = served.output()
    assert "Starting gunicorn" in output and "Using worker: ragbase.web_server.StoppingThreadWorker" in output
    assert "development server" not in output.lower()
    gunicorn = [p for p in served.tree() if "gunicorn" in " ".join(p.cmdline())]
    assert len(gunicorn) == 1 + WORKERS  # the master and its workers
    # Only serve holds the store's files; the workers have none of them open.
    store = served.env["QDRANT_PATH"]
    assert any(f.path.startswith(store) for f in psutil.Process(served.process.pid).open_files())
    for process in gunicorn:
        assert not [f.path for f in process.open_files() if f.path.startswith(store)]
    body = requests.get(f"{served.url}/readyz", timeout=10).json()
    assert body["status"] == "ready", body
    server = body["server"]
    assert server["software"].startswith("gunicorn") and server["threads"] == THREADS
    assert server["busy"] >= 1 and server["idle"] == THREADS - server["busy"]  # this request is in flight
    assert server["uptime_seconds"] > 0 and server["pid"] in {p.pid for p in gunicorn_workers(served)}
    assert body["checks"]["vector_store"]["backend"] == "embedded (qdrant-edge)"  # the owner's answer
    assert server["database_pool"]["pool_max"] == POOL
    # The django-q2 cluster beside it is seen from the web process (its status is in Postgres).
    deadline = time.monotonic() + 20
    while not (clusters := requests.get(f"{served.url}/readyz", timeout=10).json()["workers"]):
        assert time.monotonic() < deadline, "the cluster never showed in /readyz"
        time.sleep(0.5)
    assert clusters[0]["workers"] == int(served.env.get("Q_WORKERS", 2)) and clusters[0]["status"], clusters


def test_the_store_socket_is_private_and_refuses_a_connection_without_the_key(served, credentials):
    socket_path = Path(gunicorn_workers(served)[0].environ()["RAGBASE_STORE_OWNER_SOCKET"])
    assert socket_path.stat().st_mode & 0o777 == 0o600 and socket_path.parent.stat().st_mode & 0o777 == 0o700
    with pytest.raises(AuthenticationError):
        Client(str(socket_path), family="AF_UNIX", authkey=b"not the key")
    answer = client(credentials, "token").get(f"{served.url}/api/search/", params={"q": "heron"}, timeout=30)
    assert answer.status_code == 200


def test_a_killed_worker_is_replaced_and_the_store_stays_open(served, credentials):
    """A worker's crash (or gunicorn's timeout killing it) is a web server matter only: serve still
    owns the store and the new worker reaches it."""
    session = client(credentials, "token")
    victim = gunicorn_workers(served)[0]
    victim.kill()
    victim.wait(10)
    deadline = time.monotonic() + 60
    while len(workers := gunicorn_workers(served)) < WORKERS or victim.pid in {p.pid for p in workers}:
        assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
        time.sleep(0.2)
    answers = [session.get(f"{served.url}/api/search/", params={"q": f"heron {n}"}, timeout=30).status_code
               for n in range(20)]
    assert answers == [200] * 20
    assert requests.get(f"{served.url}/readyz", timeout=10).json()["status"] == "ready"


def test_the_next_start_removes_the_temp_folders_of_a_killed_serve(served):
    environment = gunicorn_workers(served)[0].environ()
    folders = {"store": Path(environment["RAGBASE_STORE_OWNER_SOCKET"]).parent,
               "metrics": Path(environment["PROMETHEUS_MULTIPROC_DIR"])}
    assert all(folder.name.startswith(f"ragbase-{kind}-{served.process.pid}-") for kind, folder in folders.items())
    processes = served.tree()
    served.process.kill()  # it cannot clean up after itself; its children die with it
    _, alive = psutil.wait_procs(processes, timeout=STOP_BOUND_SECONDS)
    assert not alive and all(folder.is_dir() for folder in folders.values())
    served.start()
    assert not any(folder.exists() for folder in folders.values())
    assert served.output().count("left by a server that was killed") == 2


def test_static_files_are_served_compressed_and_cacheable(served):
    response = requests.get(f"{served.url}/static/ragbase/base.css", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/css")
    assert response.headers["Content-Encoding"] == "gzip" and "max-age" in response.headers["Cache-Control"]
    assert requests.get(f"{served.url}/static/admin/css/base.css", timeout=10).status_code == 200
    assert requests.get(f"{served.url}/static/ragbase/missing.css", timeout=10).status_code == 404


def _sample(scrape: str, series: str) -> float:
    return float(re.search(rf"^{series} (\S+)$", scrape, re.MULTILINE)[1])


def test_metrics_are_the_sums_of_every_process_whichever_worker_answers(served, credentials, django_db_blocker):
    """The drain's counters are serve's and the request counters each worker's; a scrape of either
    worker reads all of them from the processes' files in one shared folder."""
    session = client(credentials, "token")
    answer = session.post(f"{served.url}/api/documents/", timeout=30,
                          files={"files": ("metrics.txt", b"Kingfishers dive for fish below the weir.")})
    assert answer.status_code == 202, answer.text
    with django_db_blocker.unblock():
        deadline = time.monotonic() + 60
        while Chunk.objects.filter(document__title="metrics.txt", sync_status=SyncStatus.SYNCED).count() == 0:
            assert time.monotonic() < deadline, "serve's drain never pushed the upload"
            time.sleep(0.5)
        pushed_by_serve = Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count()
    by_worker, deadline = {}, time.monotonic() + 60
    while len(by_worker) < WORKERS:  # a keep-alive connection stays with one worker, which /readyz names
        assert time.monotonic() < deadline, f"the scrapes reached only the workers {list(by_worker)}"
        connection = requests.Session()
        by_worker.setdefault(connection.get(f"{served.url}/readyz", timeout=10).json()["server"]["pid"], connection)
    first, second = by_worker.values()
    scrapes = [connection.get(f"{served.url}/metrics", timeout=10).text for connection in (first, second)]
    assert {_sample(s, "ragbase_outbox_pushed_total") for s in scrapes} == {pushed_by_serve}
    counted = "django_http_requests_before_middlewares_total"
    assert second.get(f"{served.url}/accounts/login/", timeout=10).status_code == 200
    # The first worker's scrape counts the request the second served (a scrape itself is not counted).
    assert _sample(first.get(f"{served.url}/metrics", timeout=10).text, counted) == _sample(scrapes[0], counted) + 1
    folder = Path(gunicorn_workers(served)[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
    writers = {int(re.search(r"_(\d+)\.db$", f.name)[1]) for f in folder.glob("*.db")}
    assert {served.process.pid, *by_worker} <= writers and folder.stat().st_mode & 0o777 == 0o700


def fifty_clients_at_once(url: str, new_session, *, searches: int, word: str) -> list[int]:
    """The status codes of 50 clients (`new_session()` each) released together, each sending
    `searches` searches for `word`."""
    statuses, start = [], threading.Barrier(50)

    def one_client(n):
        session = new_session()
        start.wait()
        for i in range(searches):
            statuses.append(session.get(f"{url}/api/search/", params={"q": f"{word} {n} {i}"}, timeout=60).status_code)

    threads = [threading.Thread(target=one_client, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_fifty_session_clients_at_once_queue_and_none_fails(served, credentials):
    """50 clients on THREADS threads and POOL database connections: they wait, none gets a 5xx."""
    statuses = fifty_clients_at_once(served.url, lambda: client(credentials, "session"), searches=4, word="heron")
    assert statuses == [200] * 200, {s: statuses.count(s) for s in set(statuses)}
    pool = requests.get(f"{served.url}/readyz", timeout=10).json()["server"]["database_pool"]
    assert pool["pool_size"] <= POOL and pool["connections_errors"] == 0


def _refused(error: requests.ConnectionError) -> bool:
    """The server had stopped listening (fine after SIGTERM), as opposed to a dropped request."""
    return "Connection refused" in str(error) or "Errno 111" in str(error)


def test_sigterm_under_load_finishes_requests_stops_everything_and_loses_nothing(served, credentials, django_db_blocker):
    outcomes, uploaded, stop = [], [], threading.Event()

    def searcher(n, auth):
        session = client(credentials, auth)
        while not stop.is_set():
            try:
                outcomes.append(session.get(f"{served.url}/api/search/", params={"q": f"gull {n}"}, timeout=30).status_code)
            except requests.ConnectionError as error:
                outcomes.append("refused" if _refused(error) else repr(error))
                time.sleep(0.05)

    def uploader():
        session = client(credentials, "token")
        n = 0
        while not stop.is_set():
            files = {"files": (f"note-{n}.txt", f"Field note {n}: heron {n} waits at river bend {n}.".encode())}
            try:
                response = session.post(f"{served.url}/api/documents/", files=files, timeout=30)
                outcomes.append(response.status_code)
                if response.status_code == 202:
                    uploaded.append(f"note-{n}.txt")
            except requests.ConnectionError as error:
                outcomes.append("refused" if _refused(error) else repr(error))
                time.sleep(0.05)
            n += 1

    clients = [threading.Thread(target=searcher, args=(n, "token" if n % 2 else "session")) for n in range(12)]
    clients.append(threading.Thread(target=uploader))
    for t in clients:
        t.start()
    time.sleep(4)
    processes = served.tree()
    folder_lock = Path(served.env["QDRANT_PATH"])
    signalled = time.monotonic()
    served.sigterm_group()
    try:
        exit_code = served.process.wait(STOP_BOUND_SECONDS)
        _, alive = psutil.wait_procs(processes, timeout=max(1.0, STOP_BOUND_SECONDS - (time.monotonic() - signalled)))
    finally:
        stop.set()
        for t in clients:
            t.join()
    output = served.output()
    assert exit_code == 0, output[-3000:]
    assert not alive, [p.pid for p in alive]
    assert "Traceback" not in output and "TimeoutExpired" not in output, output[-3000:]
    answered = [o for o in outcomes if o != "refused"]
    assert answered and set(answered) <= {200, 202}, {o: outcomes.count(o) for o in set(map(str, outcomes))}
    assert uploaded and 200 in answered
    EdgeVectorIndex(path=folder_lock, collection="ragbase_hybrid").close()  # the folder's lock was released

    served.start()  # what was queued or PENDING when it stopped is finished after a restart
    with django_db_blocker.unblock():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            documents = Document.objects.filter(title__startswith="note-")
            done = documents.filter(state__in=Document.INDEXED_STATES).count()
            pending = Chunk.objects.exclude(sync_status=SyncStatus.SYNCED).count()
            if done == len(uploaded) and not pending:
                break
            time.sleep(0.5)
        assert sorted(documents.values_list("title", flat=True)) == sorted(uploaded)
        assert done == len(uploaded) and pending == 0
        assert Chunk.objects.filter(document__in=documents).count() >= len(uploaded)
