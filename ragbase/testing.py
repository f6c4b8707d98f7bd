"""The shared test kit: factories for users, documents and chunks, the vector-index swap, running
manage.py in a subprocess, and the constants tests agree on. Plain functions for tests to import,
and the pytest fixtures built on them (conftest.py registers this module as a plugin once Django
is set up). Only tests import it."""
import contextlib
import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.contrib.auth import get_user_model
from rest_framework.throttling import ScopedRateThrottle

from chunks.embedding import get_embedder
from chunks.models import Chunk, Document
from chunks.outbox.drain import drain
from chunks.services.ingestion import ingest_content
from chunks.vector_index import VectorIndex, iter_pages, set_vector_index
from chunks.vector_index.owner_link import OwnerLinkIndex, OwnerLinkServer
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from chunks.vector_index.qdrant_server import ServerVectorIndex

ROOT = Path(__file__).resolve().parent.parent
# A collection for vectors of this size and model, so tests of the outbox and the store need no models.
TEST_DENSE_DIM = 8
TEST_MODEL_ID = "test-model"


# --- Factories -------------------------------------------------------------------------------
def make_user(name: str, **fields):
    """A user whose password is "pw-<name>"."""
    return get_user_model().objects.create_user(name, password=f"pw-{name}", email=f"{name}@example.com", **fields)


def make_document(owner, *, source_id: str = "doc", title: str = "Doc", source: str = Document.Source.UPLOAD,
                  **fields) -> Document:
    """A Document row alone (no file, no chunks)."""
    return Document.objects.create(owner=owner, source=source, source_id=source_id, title=title, **fields)


def make_chunks(n: int, *, owner_name: str = "ann", documents: int = 1, dim: int = TEST_DENSE_DIM, seed: int = 0):
    """n PENDING chunks with random vectors spread over `documents` documents of one owner;
    returns the documents."""
    rng = random.Random(seed)
    owner, _ = get_user_model().objects.get_or_create(username=owner_name)
    docs = [make_document(owner, source_id=f"{owner_name}-{i}-{rng.random()}", title=f"doc {i}", mime_type="text/plain")
            for i in range(documents)]
    Chunk.objects.bulk_create(
        [
            Chunk(
                document=docs[i % documents], owner=owner, ordinal=i, text=f"chunk {i}",
                dense_vector=[rng.random() + 0.01 for _ in range(dim)],
                sparse_indices=[rng.randrange(1000) + 1000 * k for k in range(3)],
                sparse_values=[rng.random() + 0.01 for _ in range(3)],
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    return docs


def add_text_document(owner, text: str | bytes, *, title: str = "Doc", source_id: str | None = None,
                      drain_now: bool = True, source: str = Document.Source.UPLOAD, mime_type: str = "text/plain",
                      **fields) -> Document:
    """Ingest a document for `owner` (the real models; text, or the file's bytes of `mime_type`);
    pushed to the process-wide vector index unless `drain_now` is False."""
    content = text.encode() if isinstance(text, str) else text
    document = ingest_content(owner=owner, source=source, source_id=source_id or title, title=title,
                              mime_type=mime_type, content=content, **fields)
    if drain_now:
        drain()
    return document


class HashEmbedder:
    """A deterministic stand-in for the real embedder, of the test collection's size and model (the
    models belong to the ingest tests)."""

    dense_dim = TEST_DENSE_DIM
    model_id = TEST_MODEL_ID

    def embed_documents(self, texts):
        out = []
        for text in texts:
            digest = hashlib.sha256(text.encode()).digest()
            out.append({"dense": [b / 255 + 0.01 for b in digest[: self.dense_dim]],
                        "sparse": {"indices": [digest[0], 256 + digest[1]], "values": [1.0, 0.5]}})
        return out


# --- The vector index ------------------------------------------------------------------------
class LinkedTestIndex(OwnerLinkIndex):
    """What a web server's worker process uses: the link to an owner's qdrant-edge in `folder`,
    the owner being this process too (its link server in threads)."""

    def __init__(self, folder: Path):
        self.owned = EdgeVectorIndex(path=folder, collection="test")
        self.server = OwnerLinkServer(self.owned)
        super().__init__(path=self.server.path, key=self.server.key, collection="test")

    def close(self):
        super().close()
        self.server.stop()
        self.owned.close()


def build_test_index(kind: str, folder: Path) -> VectorIndex:
    """"embedded": qdrant-edge in `folder`; "server": qdrant-client's local mode, which stands in
    for a Qdrant server (same calls, same client code); "linked": qdrant-edge reached through the
    owner's link, as a web server's worker process reaches it."""
    if kind == "embedded":
        return EdgeVectorIndex(path=folder, collection="test")
    if kind == "linked":
        return LinkedTestIndex(folder)
    return ServerVectorIndex(path=folder, collection="test")


def ensured(index: VectorIndex) -> VectorIndex:
    """`index` with its collection made for the test vectors."""
    index.ensure_collection(dense_dim=TEST_DENSE_DIM, model_id=TEST_MODEL_ID)
    return index


def synced_chunks(index: VectorIndex, n: int, *, documents: int) -> VectorIndex:
    """`index` ensured, holding n SYNCED chunks of `documents` documents (make_chunks, drained)."""
    ensured(index)
    make_chunks(n, documents=documents)
    drain(index=index)
    return index


def stored_points(index: VectorIndex) -> dict:
    """Every point of `index`'s collection with its vectors and payload, by id."""
    return {p.id: p for page in iter_pages(index, page_size=200, with_vectors=True) for p in page}


@contextlib.contextmanager
def installed_index(index: VectorIndex | None):
    """`index` as the process-wide vector index inside the block (None: no index opened yet, as in
    a worker); afterwards the previous one is back and `index` is closed."""
    previous = set_vector_index(index)
    try:
        yield index
    finally:
        set_vector_index(previous)
        if index is not None:
            index.close()


# --- Processes -------------------------------------------------------------------------------
def subprocess_database_url() -> str:
    """DATABASE_URL for a subprocess that must see this test's database (pytest-django renamed it)."""
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


def manage_env(var_dir: Path, **overrides: str) -> dict:
    """The environment of a `manage.py` process of the tests: this one's (but DJANGO_SETTINGS_MODULE,
    which manage.py sets), `overrides`, and `var_dir` as its RAGBASE_VAR_DIR."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(overrides, RAGBASE_VAR_DIR=str(var_dir))
    return env


def run_manage(tmp_path: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """`manage.py *args` in a new process with manage_env(tmp_path, **env_overrides); returns the
    finished process (stdout and stderr as text)."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=manage_env(tmp_path, **env_overrides),
                          capture_output=True, text=True, timeout=120)


# --- Fixtures --------------------------------------------------------------------------------
@pytest.fixture(name="make_user")
def make_user_fixture(db):
    """make_user, with database access."""
    return make_user


@pytest.fixture
def vector_index(tmp_path):
    """The embedded engine in tmp_path, not yet ensured (call ensure_collection, `ensured`, or
    use the outbox), installed as the process-wide index for the test."""
    with installed_index(build_test_index("embedded", tmp_path / "qdrant")) as index:
        yield index


@pytest.fixture(params=["embedded", "server"])
def vector_index_backend(request, tmp_path):
    """Each backend in turn (server = qdrant-client local mode), installed as the process-wide index."""
    with installed_index(build_test_index(request.param, tmp_path / f"qdrant-{request.param}")) as index:
        yield index


@pytest.fixture(scope="session")
def embedder():
    """The real HybridEmbedder with the bundled offline models, loaded once for the session."""
    return get_embedder()


@pytest.fixture
def add_document(vector_index, embedder):
    """add_text_document, into the test's vector index."""
    return add_text_document


@pytest.fixture
def unthrottled(monkeypatch):
    """For tests that fire far more searches than a person would (throttling has its own tests)."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"search": "1000000/min"})
