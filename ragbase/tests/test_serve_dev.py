"""`manage.py serve --dev` (Django's development server) from outside: it owns the embedded store
like the production server's worker — it drains the outbox, answers searches, and on SIGTERM stops
the drain and releases the store's lock; its request threads share one bounded pool of database
connections. (A module of its own: the production server of test_serve.py would otherwise drain
the same database's chunks.)"""
import time

import requests
from knox.models import AuthToken

from chunks.models import Chunk, SyncStatus
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from ragbase.testing import add_text_document, make_user
from ragbase.tests.test_serve import POOL, STOP_BOUND_SECONDS, Served, fifty_clients_at_once, serve_env


def test_serve_dev_owns_the_store_drains_the_outbox_and_releases_it_on_sigterm(transactional_db, tmp_path, embedder):
    dee = make_user("dee")
    token = AuthToken.objects.create(user=dee)[1]
    add_text_document(dee, "Kingfishers dive for minnows at dawn.", title="Kingfishers", drain_now=False)
    server = Served(tmp_path, serve_env(tmp_path), "--dev", "--no-workers")
    server.start()
    try:
        deadline = time.monotonic() + 30
        while Chunk.objects.filter(owner=dee).exclude(sync_status=SyncStatus.SYNCED).exists():
            assert time.monotonic() < deadline, server.output()[-2000:]
            time.sleep(0.3)
        found = requests.get(f"{server.url}/api/search/", params={"q": "kingfisher", "group": "none"},
                             headers={"Authorization": f"Token {token}"}, timeout=30).json()
        assert [hit["title"] for hit in found["results"]] == ["Kingfishers"]
        _fifty_clients_at_once_get_answers_from_a_bounded_pool(server.url, token)
        server.sigterm_group()
        assert server.process.wait(STOP_BOUND_SECONDS) == 0, server.output()[-2000:]
        assert "Traceback" not in server.output()
        EdgeVectorIndex(path=tmp_path / "qdrant", collection="ragbase_hybrid").close()  # the lock was released
    finally:
        server.stop()



def _fifty_clients_at_once_get_answers_from_a_bounded_pool(url, token):
    """runserver starts a thread per client; they wait for one of POOL connections, none fails."""

    def new_session():
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        return session

    statuses = fifty_clients_at_once(url, new_session, searches=2, word="minnow")
    assert statuses == [200] * 100, {s: statuses.count(s) for s in set(statuses)}
    pool = requests.get(f"{url}/readyz", timeout=10).json()["server"]["database_pool"]
    assert pool is not None and pool["pool_size"] <= POOL and pool["connections_errors"] == 0, pool
