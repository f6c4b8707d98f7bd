"""A django-q2 worker in its own process, for the killed-worker test: it takes tasks from the real
ORM broker, runs them and acknowledges them, as a cluster worker does. It prints `embedding` when
a batch starts embedding and `written` when a batch has committed, pausing a moment after each so
that a kill lands inside a batch or between two; with `until-done` (the worker that is not killed)
it does not pause, and exits once no sync is active. (The pauses are not in the pace a task
measures to fit its budget: on a slow host they would make every task leave files downloaded but
not embedded, which the next task downloads again.)

    python -m drive.tests.sync_worker [until-done SECONDS]
"""
import os
import sys
import time

import django


def main(mode, seconds):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    django.setup()
    from django.utils.module_loading import import_string
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    from chunks.embedding import get_embedder
    from drive.models import SyncRun
    from drive.services import processing

    get_embedder().embed_query("warm up")  # as `serve` does: the model's first call is slow

    embed, write = processing._embed_within, processing._write

    pause = 0 if mode == "until-done" else 0.3

    def embedding(*args, **kwargs):
        print("embedding", flush=True)
        time.sleep(pause)
        return embed(*args, **kwargs)

    def written(*args, **kwargs):
        done = write(*args, **kwargs)
        print("written", flush=True)
        time.sleep(pause)
        return done

    processing._embed_within, processing._write = embedding, written
    broker = get_broker()
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mode == "until-done" and not SyncRun.objects.filter(phase__in=SyncRun.ACTIVE_PHASES).exists():
            return
        for ack_id, payload in broker.dequeue() or []:
            task = SignedPackage.loads(payload)
            import_string(task["func"])(*task["args"], **task["kwargs"])
            broker.acknowledge(ack_id)
            print("task", task["func"], flush=True)
    sys.exit(f"the sync did not end in {seconds} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "", float(sys.argv[2]) if len(sys.argv) > 2 else 300)
