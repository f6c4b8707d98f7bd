"""Test environment: a real PostgreSQL (pgserver, session-wide, in a temp dir) unless
DATABASE_URL is set, and the real Qdrant engine in temp dirs. Settings are loaded only after
the environment below is in place, so tests never touch the project's var/ folder. The shared
fixtures and factories are the test kit, ragbase/testing.py."""
import atexit
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import django

from ragbase.embedded_postgres import embedded_database_url

_TEST_ROOT = Path(tempfile.mkdtemp(prefix="ragbase-test-"))


def _remove_test_root():
    with contextlib.suppress(OSError):  # only once it is empty
        _TEST_ROOT.rmdir()


# Registered before pgserver's exit handler, so it runs after it (atexit runs last-in, first-out):
# by then pgserver has deleted pgdata and pytest_unconfigure the rest.
atexit.register(_remove_test_root)


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
        os.environ["DATABASE_URL"] = embedded_database_url(_TEST_ROOT / "pgdata", cleanup_mode="delete")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    django.setup()
    # The test kit imports models, so it is registered once Django is set up.
    config.pluginmanager.import_plugin("ragbase.testing")


def pytest_unconfigure(config):
    # pgdata is deleted by pgserver itself when the server stops at exit. Its exit messages would
    # go to a stream pytest has already closed (Django's logging holds pytest's captured stderr).
    logging.getLogger("pgserver").disabled = True
    for child in _TEST_ROOT.iterdir():
        if child.name != "pgdata":
            shutil.rmtree(child, ignore_errors=True)
