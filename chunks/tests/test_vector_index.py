"""The process-wide vector index and its collection (chunks.vector_index)."""
import threading
import time

from chunks.vector_index import ensure_index_ready


def test_concurrent_first_searches_create_the_collection_once(vector_index):
    """Threads of a fresh server all ask for the index at once: the collection is created by one
    of them, while the others wait for it, and none fails."""
    threads = 16
    calls, errors = [], []
    start_together = threading.Barrier(threads)
    original = vector_index.ensure_collection

    def slow_ensure(**kwargs):
        calls.append(kwargs)
        time.sleep(0.2)  # long enough for every other thread to reach the ready check meanwhile
        original(**kwargs)

    vector_index.ensure_collection = slow_ensure

    def first_request():
        start_together.wait()
        try:
            ensure_index_ready(vector_index, dense_dim=8, model_id="m")
        except Exception as exc:  # noqa: BLE001 - the test counts every failure
            errors.append(exc)

    workers = [threading.Thread(target=first_request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == [] and len(calls) == 1 and vector_index.ready
