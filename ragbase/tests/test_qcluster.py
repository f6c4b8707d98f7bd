"""`manage.py qcluster` from outside: a real cluster on the test database, stopped by a burst of
SIGTERMs (django-q2's own command can deadlock in its signal handler on the second one, django-q2
issue #346), by SIGTERM while a long task runs with `--stop-seconds`, and by the loss of its
sentinel."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from django_q.conf import Conf
from django_q.tasks import async_task

from ragbase.testing import ROOT, manage_env, subprocess_database_url

pytestmark = pytest.mark.django_db(transaction=True)


class Cluster:
    def __init__(self, tmp_path, *options):
        self.log = tmp_path / "qcluster.log"
        env = manage_env(tmp_path, DATABASE_URL=subprocess_database_url(), LOG_LEVEL="INFO", Q_SYNC="false", Q_WORKERS="2")
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster", *options], cwd=ROOT, env=env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for_output("running.")
        self.processes = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None and time.monotonic() < deadline, self.output()[-3000:]
            time.sleep(0.1)

    def survivors_after(self, seconds: float) -> list[str]:
        """The cluster's processes still running `seconds` from now (then killed: no cluster outlives
        the test). A zombie has stopped: orphans are reaped by init, here every ~2 s."""
        _, alive = psutil.wait_procs(self.processes, timeout=seconds)
        survivors = []
        for process in alive:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    survivors.append(f"{process.pid} {process.status()} {' '.join(process.cmdline())}")
                    process.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(10)
        return survivors


@pytest.fixture
def cluster(tmp_path):
    started = []
    yield lambda *options: started.append(Cluster(tmp_path, *options)) or started[-1]
    for each in started:
        each.survivors_after(0)


def test_a_burst_of_sigterms_stops_the_cluster(cluster):
    running = cluster()
    for _ in range(20):  # as a killed multi-threaded parent's death signals, or a supervisor's retries
        os.kill(running.process.pid, signal.SIGTERM)
        time.sleep(0.003)
    assert not running.survivors_after(15), running.output()[-3000:]
    assert running.process.returncode == 0 and "has stopped." in running.output()


def test_stop_seconds_kills_a_cluster_held_up_by_a_long_task(cluster, monkeypatch):
    running = cluster("--stop-seconds", "2")
    monkeypatch.setattr(Conf, "SYNC", False)
    async_task("time.sleep", 120, task_name="long-task")
    running.wait_for_output("processing long-task 'time.sleep'")
    signalled = time.monotonic()
    running.process.send_signal(signal.SIGTERM)
    survivors = running.survivors_after(15)
    assert not survivors, (survivors, running.output()[-3000:])
    assert 2 <= time.monotonic() - signalled < 15
    assert "did not stop within 2 s: killing its" in running.output()


def test_a_cluster_whose_sentinel_died_exits_with_an_error(cluster):
    running = cluster()
    sentinel = psutil.Process(running.process.pid).children()[0]
    sentinel.kill()
    assert running.process.wait(15) == 1
    assert "the django-q2 cluster's sentinel stopped (exit code -9)" in running.output()
