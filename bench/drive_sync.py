"""The `drive` section of bench/run.py (imported once Django is set up): a first Drive sync from "Sync now" to all searchable.

A fake Google on loopback (drive/tests/fake_google.py: the real google-api-python-client talks to
it over HTTP, at Google's page sizes) serves N Google Docs of real text (NFCorpus title + abstract).
Real django-q2 workers (`manage.py qcluster`, 1 then 2 processes, warmed up first) run the sync's
tasks; this process is the embedded store's owner (as `manage.py serve` is) and drains the outbox
in its drain thread. "Sync now" is the page's POST; progress is read from /drive/progress/ as the
page's script does. Before and after each run a sample of the same chunk texts is embedded here
with no worker running: the raw embedding floor of that hour (the machine drifts), and the
end-to-end rate as a share of their mean.
"""
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.test import Client
from django_q.models import Success, Task
from django_q.tasks import async_task

from chunks.chunking import chunk_text
from chunks.embedding import get_embedder
from chunks.extraction import extract_text
from chunks.models import Chunk
from chunks.outbox.wakeup import OwnerDrainThread
from chunks.services.ingestion import embedding_text
from drive.models import DriveConnection, SyncRun
from drive.tests.fake_google import FakeFile, FakeGoogle

ROOT = Path(__file__).resolve().parents[1]
FLOOR_SAMPLE = 1000  # chunk texts embedded for the floor before and after each run


def warm_up(seconds: float) -> None:
    """A worker task: load the embedding model, then hold the worker so the next warm-up goes to another."""
    get_embedder().embed_query("warm up")
    time.sleep(seconds)


def section(record, *, corpus: dict, documents: int, worker_counts=(1, 2)):
    fake = FakeGoogle().start()
    fake.page_size_cap = None  # Google's page sizes
    ids = sorted(corpus)[:documents]
    for doc_id in ids:
        doc = corpus[doc_id]
        fake.put_file(FakeFile(f"nf-{doc_id}", doc.get("title") or doc_id, "application/vnd.google-apps.document",
                               doc["text"].encode()))
    record("drive", "fake Drive", "Google Docs", len(ids))
    sample = floor_texts([corpus[doc_id] for doc_id in ids])
    try:
        for workers in worker_counts:
            user = get_user_model().objects.create_user(f"drive-bench-{workers}")
            one_run(record, fake, user, workers=workers, documents=len(ids), sample=sample)
    finally:
        fake.stop()


def one_run(record, fake, user, *, workers: int, documents: int, sample: list[str]):
    connection = DriveConnection(user=user, google_email=f"{user.username}@gmail.example")
    connection.refresh_token = fake.grant(connection.google_email)
    connection.save()
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    floor_before = embedding_floor(sample)
    drainer = OwnerDrainThread(poll_seconds=1)
    drainer.start()
    cluster = start_cluster(fake, workers)
    try:
        client = Client()
        client.force_login(user)
        started = time.perf_counter()
        since = Task.objects.aggregate(last=Max("stopped"))["last"]
        assert client.post("/drive/sync/").status_code == 302
        first_found = first_done = None
        while True:
            progress = client.get("/drive/progress/").json()
            elapsed = time.perf_counter() - started
            if first_found is None and progress["found"]:
                first_found = elapsed
            if first_done is None and progress["done"]:
                first_done = elapsed
            if progress["phase"] == SyncRun.Phase.DONE and progress["chunks_waiting"] == 0:
                break
            if progress["phase"] == SyncRun.Phase.STOPPED or elapsed > 3600:
                raise RuntimeError(f"the sync did not finish: {progress}")
            time.sleep(0.5)
        total = time.perf_counter() - started
    finally:
        stop_cluster(cluster)
        drainer.stop()
    chunks = Chunk.objects.filter(owner=user).count()
    tasks = Task.objects.filter(func__startswith="drive.tasks.", **({"started__gt": since} if since else {}))
    # Task.started is when the task was queued; the task's result says how long it worked.
    durations = [float(m[1]) for m in (re.search(r"seconds=([\d.]+)", str(t.result)) for t in tasks) if m]
    floor_after = embedding_floor(sample)
    record("drive", label, "files", progress["done"])
    record("drive", label, "chunks", chunks)
    record("drive", label, "Sync now -> all searchable", total, "s")
    record("drive", label, "files/s", documents / total, "files/s")
    record("drive", label, "chunks/s end to end", chunks / total, "chunks/s")
    floor = (floor_before + floor_after) / 2
    record("drive", label, "raw embedding floor, same texts (before / after)",
           f"{floor_before:.2f} / {floor_after:.2f}", "chunks/s")
    record("drive", label, "end to end / floor (mean of before and after)", chunks / total / floor, "x")
    record("drive", label, "first progress on the page", first_found, "s")
    record("drive", label, "first file done", first_done, "s")
    record("drive", label, "tasks (failed)", f"{tasks.count()} ({tasks.filter(success=False).count()})")
    record("drive", label, "longest task / bound", max(durations) / settings.DRIVE_TASK_SECONDS, "x")
    record("drive", label, "workers busy (task seconds / wall / workers)", sum(durations) / total / workers, "x")


def start_cluster(fake, workers: int) -> subprocess.Popen:
    # Each worker process gets its share of the cores for its embedding calls (EMBED_THREADS).
    env = dict(os.environ, Q_WORKERS=str(workers), DRIVE_PROCESSING_TASKS=str(workers),
               EMBED_THREADS=str(max(1, os.cpu_count() // workers)),
               GOOGLE_OAUTH_CLIENT_ID="bench-client", GOOGLE_OAUTH_CLIENT_SECRET="bench-secret",
               GOOGLE_TOKEN_URI=fake.url + "/token", GOOGLE_DRIVE_API_ROOT=fake.url + "/drive/v3/")
    log = Path(os.environ["RAGBASE_VAR_DIR"]) / f"qcluster-{workers}.log"
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)

    before = Success.objects.filter(func="bench.drive_sync.warm_up").count()
    for _ in range(workers):
        async_task("bench.drive_sync.warm_up", 3.0)
    deadline = time.monotonic() + 120
    while Success.objects.filter(func="bench.drive_sync.warm_up").count() < before + workers:
        if cluster.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the django-q2 cluster did not start, see {log}")
        time.sleep(0.5)
    return cluster


def stop_cluster(cluster: subprocess.Popen) -> None:
    cluster.terminate()
    try:
        cluster.wait(timeout=60)
    except subprocess.TimeoutExpired:
        cluster.kill()
        cluster.wait()


def floor_texts(docs: list[dict]) -> list[str]:
    """A sample of the chunk texts the sync makes of these documents (the same extraction,
    chunking and title prefix), for the raw embedding floor."""
    embedder = get_embedder()
    texts = [embedding_text(doc.get("title") or doc["_id"], piece.text) for doc in docs
             for piece in chunk_text(extract_text(doc["text"].encode(), "text/plain"), tokenizer=embedder,
                                     size=settings.CHUNK_SIZE_TOKENS, overlap=settings.CHUNK_OVERLAP_TOKENS)]
    random.Random(0).shuffle(texts)
    return texts[:FLOOR_SAMPLE]


def embedding_floor(texts: list[str]) -> float:
    """Chunks/s of the embedder alone, in batches of EMBED_BATCH_SIZE, in this process."""
    embedder = get_embedder()
    started = time.perf_counter()
    for start in range(0, len(texts), settings.EMBED_BATCH_SIZE):
        embedder.embed_documents(texts[start:start + settings.EMBED_BATCH_SIZE])
    return len(texts) / (time.perf_counter() - started)
