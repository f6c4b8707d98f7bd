"""A sync whose worker is SIGKILLed: between batches, inside one, and at a random moment. Workers
are separate processes (drive/tests/sync_worker.py) taking the sync's tasks from django-q2's ORM
broker on the test database, against the fake Google over HTTP; a killed task is handed out again
by the broker after Q_RETRY_SECONDS, and a killed batch's lease runs out and is claimed again."""
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection as db

from chunks.models import Chunk, Document, VectorDeletion
from chunks.outbox.drain import drain
from drive.models import SyncRun
from drive.tests.fake_google import FakeFile

ROOT = Path(__file__).resolve().parents[2]
FILES = 40
BATCH_FILES = 4
DOC = "application/vnd.google-apps.document"


class Worker:
    def __init__(self, env, *args):
        self.process = subprocess.Popen([sys.executable, "-m", "drive.tests.sync_worker", *args], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("ready")

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, marker, timeout=120):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the worker exited before {marker!r}: {seen[-20:]}")
            seen.append(line)
            if line == marker:
                return
        raise AssertionError(f"no {marker!r} from the worker within {timeout} s: {seen[-20:]}")

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_every_file_indexed_exactly_once(fake_google, make_connection, embedder, vector_index,
                                                                 monkeypatch):
    from django_q.conf import Conf

    from drive.tasks import request_sync

    fake_google.page_size_cap = 10
    texts = {f"k{n}": f"Field note {n}: heron number {n} waits at river bend {n}." for n in range(FILES)}
    for file_id, text in texts.items():
        fake_google.put_file(FakeFile(file_id, f"Note {file_id}", DOC, text.encode()))
    connection = make_connection("yara", token=fake_google.grant("yara@gmail.example"))
    monkeypatch.setattr(Conf, "SYNC", False)  # "Sync now" queues the listing task in the ORM broker
    request_sync(connection)

    url = urlsplit(os.environ["DATABASE_URL"])  # the same server, the test database
    env = dict(os.environ, DATABASE_URL=urlunsplit(url._replace(path="/" + db.settings_dict["NAME"])),
               Q_SYNC="false", Q_TIMEOUT_SECONDS="4", Q_RETRY_SECONDS="5", DRIVE_TASK_SECONDS="2",
               DRIVE_HTTP_TIMEOUT_SECONDS="2", DRIVE_BATCH_FILES=str(BATCH_FILES), DRIVE_PROCESSING_TASKS="1",
               DRIVE_LISTING_PAGES_PER_TASK="1", DRIVE_MAX_RETRIES="3", DRIVE_BACKOFF_BASE_SECONDS="0.001",
               GOOGLE_OAUTH_CLIENT_ID="test-client-id", GOOGLE_OAUTH_CLIENT_SECRET="test-client-secret",
               GOOGLE_TOKEN_URI=fake_google.url + "/token", GOOGLE_DRIVE_API_ROOT=fake_google.url + "/drive/v3/")
    workers = []
    try:
        workers.append(Worker(env))
        workers[-1].wait_for("written")  # between batches: it pauses right after a commit
        workers[-1].kill()
        workers.append(Worker(env))
        workers[-1].wait_for("embedding")  # inside a batch: claimed and downloaded, not written
        workers[-1].kill()
        workers.append(Worker(env))
        time.sleep(random.uniform(0.5, 4.0))  # anywhere
        workers[-1].kill()
        workers.append(Worker(env, "until-done", "120"))
        assert workers[-1].process.wait(timeout=180) == 0, "the sync did not end after the kills"
    finally:
        for worker in workers:
            worker.stop()

    run = SyncRun.objects.get(connection=connection)
    assert run.phase == SyncRun.Phase.DONE, (run.phase, run.last_error)
    documents = Document.objects.filter(owner=connection.user)
    assert sorted(documents.values_list("source_id", flat=True)) == sorted(texts)
    assert set(documents.values_list("state", flat=True)) == {"ready"}
    chunks = list(Chunk.objects.filter(owner=connection.user).values_list("document__source_id", "ordinal", "text"))
    assert len(chunks) == FILES and {(source_id, ordinal) for source_id, ordinal, _ in chunks} == {
        (file_id, 0) for file_id in texts}
    assert all(text == texts[source_id] for source_id, _, text in chunks)
    assert not VectorDeletion.objects.exists()  # no chunk was written twice and replaced
    # A kill costs at most the batch in flight: downloaded again, never written twice.
    assert len(fake_google.downloads) <= FILES + 3 * BATCH_FILES
    assert drain(index=vector_index).synced == FILES and vector_index.count() == FILES
