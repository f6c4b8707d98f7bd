"""A large first sync run the way django-q2 runs it (tasks queued and taken in order), against
the fake Google at Google's page sizes: every file of 10,000 listed, no task past the worker
timeout however long the embedding, two Drives syncing side by side, and the page's numbers
equal to the database's while the sync runs."""
import re
import time

import pytest
from django.db import connection as db
from django.test import Client

from chunks.models import Chunk, Document
from drive.models import SyncItem, SyncRun
from drive.services import listing, runs
from drive.tests.fake_google import FakeFile

DOC = "application/vnd.google-apps.document"


def put_nested_drive(fake, *, files: int):
    """My Drive: Team/ with 8 areas, 5 projects each, 4 years each (209 folders); a shared drive
    Research with 10 groups of 5 topics (61 folders with the drive's top); `files` files spread over all of
    them (70% My Drive, 30% shared), plus 100 in Personal/, outside the chosen scope."""
    fake.put_folder("F-team", "Team")
    leaves = []
    for a in range(8):
        fake.put_folder(f"F-a{a}", f"Area {a}", parents=["F-team"])
        for p in range(5):
            fake.put_folder(f"F-a{a}p{p}", f"Project {p}", parents=[f"F-a{a}"])
            for y in range(4):
                fake.put_folder(f"F-a{a}p{p}y{y}", f"202{y}", parents=[f"F-a{a}p{p}"])
                leaves.append((f"F-a{a}p{p}y{y}", None))
    fake.shared_drives["SD-research"] = "Research"
    shared = [("SD-research", "SD-research")]
    for g in range(10):
        fake.put_folder(f"S-g{g}", f"Group {g}", parents=["SD-research"], drive_id="SD-research")
        shared.append((f"S-g{g}", "SD-research"))
        for t in range(5):
            fake.put_folder(f"S-g{g}t{t}", f"Topic {t}", parents=[f"S-g{g}"], drive_id="SD-research")
            shared.append((f"S-g{g}t{t}", "SD-research"))
    expected = set()
    for n in range(files):
        parent, drive = shared[n % len(shared)] if n % 10 >= 7 else leaves[n % len(leaves)]
        fake.put_file(FakeFile(f"file-{n}", f"file {n}", DOC, b"x", parents=[parent], drive_id=drive))
        expected.add(f"file-{n}")
    fake.put_folder("F-personal", "Personal")
    for n in range(100):
        fake.put_file(FakeFile(f"personal-{n}", f"personal {n}", DOC, b"x", parents=["F-personal"]))
    return expected


def list_everything(run_id: int) -> int:
    slices = 0
    while not SyncRun.objects.get(pk=run_id).listing_done:
        listing.list_slice(run_id=run_id)
        slices += 1
        assert slices < 100
    return slices


@pytest.mark.slow
def test_ten_thousand_files_across_nested_folders_and_a_shared_drive_are_all_listed(
        realistic_google, make_connection, settings):
    expected = put_nested_drive(realistic_google, files=10_000)
    settings.DRIVE_LISTING_PAGES_PER_TASK = 3
    connection = make_connection("tess", token=realistic_google.grant("tess@gmail.example"),
                                 folder_ids=["F-team", "SD-research"], include_shared_drives=True)
    realistic_google.incomplete_next()  # Google may answer a page "incomplete": that query starts again
    run, _ = runs.start_or_join(connection)
    slices = list_everything(run.pk)
    run.refresh_from_db()
    listed = set(run.items.values_list("file_id", flat=True))
    assert listed == expected  # every one, nothing from outside the scope
    assert run.listing_complete and slices > 1 and run.items.filter(state=SyncItem.State.QUEUED).count() == 10_000
    # Bounded queries, one corpus each: 6 for Team's 209 folders (My Drive), 2 for the shared drive's 61.
    queries = [r for r in realistic_google.requests if r.startswith("GET /drive/v3/files?") and "mimeType+%21%3D" in r]
    assert all(r.count("+in+parents") <= listing.PARENTS_PER_QUERY for r in queries)
    assert {e["drive_id"] for e in run.plan} == {None, "SD-research"} and len(run.plan) == 6 + 2
    assert all("pageSize=1000" in r for r in queries) and len(queries) == run.pages_listed

    # The whole Drive with shared drives: My Drive and each shared drive listed as its own corpus.
    connection.folder_ids = []
    connection.save()
    SyncRun.objects.filter(pk=run.pk).update(phase=SyncRun.Phase.STOPPED)
    run, _ = runs.start_or_join(connection)
    list_everything(run.pk)
    assert set(run.items.values_list("file_id", flat=True)) == expected | {f"personal-{n}" for n in range(100)}


class SlowEmbedder:
    """The real embedder, made slow: `seconds` per chunk text, as a much larger Drive would be."""

    def __init__(self, real, seconds):
        self.real, self.seconds = real, seconds

    def embed_documents(self, texts):
        time.sleep(self.seconds * len(texts))
        return self.real.embed_documents(texts)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.django_db(transaction=True)
def test_a_sync_that_takes_far_longer_than_the_worker_timeout_completes_with_no_task_over_it(
        fake_google, make_connection, embedder, task_queue, settings, monkeypatch):
    """The worker timeout stands for 60 s, scaled down: 4 s, task bound 1 s; embedding takes ~15 s."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 4}
    settings.DRIVE_TASK_SECONDS = 1
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 20, 0
    monkeypatch.setattr("drive.services.processing.get_embedder", lambda: SlowEmbedder(embedder, 0.15))
    for n in range(40):  # one chunk each
        fake_google.put_file(FakeFile(f"s{n}", f"small {n}", DOC, f"Small note number {n} on herons.".encode()))
    medium = " ".join(f"Sentence {n} tells of the river." for n in range(30))  # ~12 chunks: ~1.8 s, past the bound
    fake_google.put_file(FakeFile("medium", "medium", DOC, medium.encode()))
    huge = " ".join(f"Line {n} of a very long report." for n in range(200))  # ~80 chunks: past any one task
    fake_google.put_file(FakeFile("huge", "huge", DOC, huge.encode()))
    connection = make_connection("uma", token=fake_google.grant("uma@gmail.example"))
    from drive.tasks import request_sync

    request_sync(connection)
    task_queue.run()
    run = connection.sync_runs.get()
    assert run.phase == SyncRun.Phase.DONE
    longest = max(seconds for _, _, seconds in task_queue.ran)
    assert longest < 4, f"a task ran {longest:.1f} s: django-q2 would have killed it"
    assert len(task_queue.seconds("process_files_task")) >= 8  # the work was handed on, task after task
    documents = {d.source_id: d for d in Document.objects.filter(owner=connection.user)}
    assert all(documents[f"s{n}"].state == "ready" for n in range(40))
    assert documents["medium"].state == "ready" and documents["medium"].chunks.count() > 5
    assert documents["huge"].state == "failed" and "more than one sync task may take" in documents["huge"].error
    assert Chunk.objects.filter(owner=connection.user).count() == 40 + documents["medium"].chunks.count()
    # A file handed on before it was embedded is downloaded again; no more than one batch of them.
    assert sum(fake_google.downloads.count(f"s{n}") for n in range(40)) <= 40 + settings.DRIVE_BATCH_FILES


@pytest.mark.django_db(transaction=True)
def test_two_drives_syncing_at_once_both_progress(fake_google, make_connection, embedder, task_queue, settings):
    """One processing lane, small batches: the big Drive's batches and the small one's alternate."""
    settings.DRIVE_PROCESSING_TASKS = 1
    settings.DRIVE_BATCH_FILES = 3
    big = make_connection("vera", token=fake_google.grant("vera@gmail.example"))
    small = make_connection("walt", token=fake_google.grant("walt@gmail.example"), folder_ids=["F-walt"])
    fake_google.put_folder("F-walt", "Walt")
    for n in range(30):
        fake_google.put_file(FakeFile(f"v{n}", f"v{n}", DOC, f"Vera's note {n} on estuaries.".encode()))
    for n in range(6):
        fake_google.put_file(FakeFile(f"w{n}", f"w{n}", DOC, f"Walt's note {n} on gulls.".encode(), parents=["F-walt"]))
    from drive.tasks import request_sync

    request_sync(big)
    request_sync(small)
    task_queue.run()
    finished = SyncItem.objects.filter(state=SyncItem.State.DONE).order_by("finished_at", "id")
    order = ["big" if connection_id == big.pk else "small"
             for connection_id in finished.values_list("run__connection_id", flat=True)]
    small_done_at = max(i for i, who in enumerate(order) if who == "small")
    assert small_done_at < len(order) // 2, f"the small Drive waited for the big one: {order}"
    assert order[:6].count("big") and order[:6].count("small")
    assert {r.phase for r in SyncRun.objects.all()} == {SyncRun.Phase.DONE}


def numbers_on_page(html: str) -> dict[str, str]:
    section = html[html.index('id="sync-progress"'):]
    return dict(re.findall(r'data-field="(\w+)">([^<]*)<', section))


def numbers_in_database(connection) -> dict[str, str]:
    """Counted here in SQL, independently of drive.selectors."""
    with db.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FILTER (WHERE action = 'ingest'),
                   count(*) FILTER (WHERE action = 'ingest' AND outcome IN ('ingested', 'skipped')),
                   count(*) FILTER (WHERE action = 'ingest' AND outcome = 'failed'),
                   count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'claimed')
              FROM drive_syncitem WHERE run_id = (SELECT max(id) FROM drive_syncrun WHERE connection_id = %s)""",
                       [connection.pk])
        found, done, failed, queued, claimed = cursor.fetchone()
        cursor.execute("""SELECT count(*) FROM chunks_chunk c JOIN chunks_document d ON d.id = c.document_id
                           WHERE c.owner_id = %s AND c.sync_status = 'PENDING' AND d.source = 'drive'""",
                       [connection.user_id])
        waiting = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM chunks_document WHERE owner_id = %s AND source = 'drive'"
                       " AND state IN ('ready', 'empty')", [connection.user_id])
        indexed = cursor.fetchone()[0]
    return {"found": str(found), "done": str(done), "failed": str(failed), "queued": str(queued),
            "in_progress": str(claimed), "chunks_waiting": str(waiting), "files_indexed": str(indexed)}


@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_database_numbers_while_a_sync_runs(fake_google, make_connection, embedder, task_queue,
                                                                settings, vector_index):
    settings.DRIVE_BATCH_FILES = 4
    settings.DRIVE_LISTING_PAGES_PER_TASK = 2
    fake_google.page_size_cap = 5
    for n in range(30):
        fake_google.put_file(FakeFile(f"p{n}", f"p{n}", DOC, f"Paper {n}: herons, rivers and reeds.".encode()))
    fake_google.put_file(FakeFile("broken", "broken.pdf", "application/pdf", b"not a pdf"))
    connection = make_connection("xena", token=fake_google.grant("xena@gmail.example"))
    client = Client()
    client.force_login(connection.user)
    seen = []

    def compare():
        html = client.get("/drive/").content.decode()
        on_page = numbers_on_page(html)
        data = client.get("/drive/progress/").json()
        expected = numbers_in_database(connection)
        for name, value in expected.items():
            assert on_page[name] == value, (name, on_page, expected)
            assert str(data[name]) == value, (name, data, expected)
        assert on_page["phase_label"] == connection.sync_runs.first().get_phase_display()
        if int(expected["files_indexed"]):
            assert on_page["last_sync_text"] != "never"
        seen.append((on_page["phase_label"], int(expected["done"]), int(expected["found"])))

    from drive.tasks import request_sync

    request_sync(connection)
    compare()
    task_queue.run(after_each=compare)
    assert any(0 < done < found for _, done, found in seen)  # compared mid-run, not only at the ends
    assert {phase for phase, _, _ in seen} >= {"Listing files", "Processing files", "Up to date"}
    assert seen[-1][1:] == (30, 31)
    from chunks.outbox.drain import drain

    drain(index=vector_index)
    compare()
    assert numbers_in_database(connection)["chunks_waiting"] == "0"
