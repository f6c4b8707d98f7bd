"""`manage.py qcluster`: django-q2's cluster, stopped by the main thread instead of by a signal handler.

django-q2's own command stops the cluster inside its SIGTERM handler, and stopping takes a
multiprocessing lock; a second signal landing while the first handler holds that lock runs the
handler again, which waits for the lock forever (django-q2 issue #346). The cluster then logs
"stopping." and never stops. Signals do come in bursts: a service manager signals the whole group,
an operator presses Ctrl-C twice, and on Linux a child whose multi-threaded parent is killed gets
its parent-death signal once for each of the parent's threads (serve's cluster when serve is
SIGKILLed, measured: three SIGTERMs within 80 ms). Here the handlers only note the signal.

`--stop-seconds N` bounds the stop: the cluster's processes that are still running N seconds after
the signal are killed (a task they were running is handed out again after Q_RETRY_SECONDS).
Without it the cluster waits, as django-q2's does, for the running tasks to finish.
"""
import logging
import os
import queue
import threading

import psutil
from django.conf import settings
from django.core.management.base import CommandError
from django_q.cluster import Cluster
from django_q.management.commands import qcluster

logger = logging.getLogger(__name__)


def kill_cluster_processes(seconds: float):
    descendants = psutil.Process().children(recursive=True)
    logger.warning("the django-q2 cluster did not stop within %g s: killing its %d processes", seconds, len(descendants))
    for process in descendants:
        try:
            process.kill()
        except psutil.Error:
            pass


class SignalNotingCluster(Cluster):
    """django-q2's cluster, whose SIGTERM and SIGINT handler (installed by Cluster) only notes the
    signal: queue.SimpleQueue.put is reentrant, safe in a signal handler."""

    def __init__(self, signals: queue.SimpleQueue):
        self.signals = signals
        super().__init__()

    def sig_handler(self, signum, frame):
        self.signals.put(signum)


class Command(qcluster.Command):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--stop-seconds", type=float, default=None,
                            help="On SIGTERM or SIGINT, kill the cluster's processes still running after this long.")

    def handle(self, *args, run_once=False, cluster_name=None, stop_seconds=None, **options):
        settings.SECRET_KEY  # noqa: B018 (as django-q2's command: signing needs it, fail before starting)
        if cluster_name:
            os.environ["Q_CLUSTER_NAME"] = cluster_name
        signals = queue.SimpleQueue()
        cluster = SignalNotingCluster(signals)
        cluster.start()
        signalled = run_once
        while not signalled and cluster.sentinel.is_alive():
            try:
                signals.get(timeout=1)
                signalled = True
            except queue.Empty:
                pass
        if not signalled:
            raise CommandError(f"the django-q2 cluster's sentinel stopped (exit code {cluster.sentinel.exitcode})")
        if stop_seconds is not None:
            deadline = threading.Timer(stop_seconds, kill_cluster_processes, args=(stop_seconds,))
            deadline.daemon = True
            deadline.start()
        cluster.stop()
