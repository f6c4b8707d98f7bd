"""Test environment: a real PostgreSQL (pgserver, session-wide, in a temp dir) unless
DATABASE_URL is set, and the real Qdrant engine in temp dirs. Settings are loaded only after
the environment below is in place, so tests never touch the project's var/ folder."""
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path

_TEST_ROOT = Path(tempfile.mkdtemp(prefix="ragbase-test-"))


def pytest_configure(config):
    os.environ["RAGBASE_VAR_DIR"] = str(_TEST_ROOT / "var")
    (_TEST_ROOT / "var" / "static").mkdir(parents=True)  # whitenoise warns when STATIC_ROOT is missing
    os.environ["QDRANT_PATH"] = str(_TEST_ROOT / "qdrant")
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("APP_ENCRYPTION_KEY", secrets.token_hex(32))
    os.environ["Q_SYNC"] = "true"
    # Production defaults redirect http to https; the test client speaks http.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    # The tests must never read the developer's .env (keys, QDRANT_URL...).
    os.environ["RAGBASE_IGNORE_DOTENV"] = "true"
    if not os.environ.get("DATABASE_URL"):
        from ragbase.embedded_postgres import embedded_database_url

        os.environ["DATABASE_URL"] = embedded_database_url(_TEST_ROOT / "pgdata", cleanup_mode="delete")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    # Load the settings now so that pytest-django's own pytest_configure sets Django up.
    from django.conf import settings

    settings.DATABASES  # noqa: B018


def pytest_unconfigure(config):
    # pgdata is deleted by pgserver itself when the server stops at exit. Its exit messages would
    # go to a stream pytest has already closed (Django's logging holds pytest's captured stderr).
    logging.getLogger("pgserver").disabled = True
    for child in _TEST_ROOT.iterdir():
        if child.name != "pgdata":
            shutil.rmtree(child, ignore_errors=True)


# --- Vector store fixtures (outbox) ----------------------------------------------------------
import pytest  # noqa: E402

TEST_DENSE_DIM = 8
TEST_MODEL_ID = "test-model"


def _build_test_index(kind, folder):
    from chunks.vector_index.qdrant_edge import EdgeVectorIndex
    from chunks.vector_index.qdrant_server import ServerVectorIndex

    if kind == "embedded":
        return EdgeVectorIndex(path=folder, collection="test")
    # qdrant-client's local mode stands in for a Qdrant server (same calls, same client code).
    return ServerVectorIndex(path=folder, collection="test")


def _installed(index):
    from chunks.vector_index import set_vector_index

    previous = set_vector_index(index)
    try:
        yield index
    finally:
        set_vector_index(previous)
        index.close()


@pytest.fixture
def vector_index(tmp_path):
    """The embedded engine in tmp_path, not yet ensured (call ensure_collection or use the
    outbox), installed as the process-wide index for the test."""
    yield from _installed(_build_test_index("embedded", tmp_path / "qdrant"))


@pytest.fixture(params=["embedded", "server"])
def vector_index_backend(request, tmp_path):
    """Each backend in turn (server = qdrant-client local mode), installed as the process-wide index."""
    yield from _installed(_build_test_index(request.param, tmp_path / f"qdrant-{request.param}"))


@pytest.fixture(scope="session")
def embedder():
    """The real HybridEmbedder with the bundled offline models, loaded once for the session."""
    from chunks.embedding import get_embedder

    return get_embedder()
