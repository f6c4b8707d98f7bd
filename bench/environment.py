"""The benchmark's environment: a throw-away embedded PostgreSQL and qdrant-edge store in a temp dir,
chosen before Django is set up (shared by run.py and outbox_drain.py)."""
import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import django
from django.core.management import call_command

from ragbase.embedded_postgres import embedded_database_url

# The environment the sync runs with (set before django.setup(), for this process and the workers).
SYNC_ENV = {"DRIVE_TASK_SECONDS": "60", "Q_TIMEOUT_SECONDS": "180", "Q_RETRY_SECONDS": "240",
            "Q_SAVE_LIMIT": "0", "OUTBOX_POLL_SECONDS": "1"}


def serving_environment():
    """What the servers the bench starts need (unless already set): no throttling, loopback hosts,
    plain http (with DEBUG off ragbase would redirect it to https), an admin password for serve."""
    os.environ.setdefault("SEARCH_THROTTLE_RATE", "100000/min")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("RAGBASE_ADMIN_PASSWORD", secrets.token_hex(16))


def add_keep_files_option(parser) -> None:
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the run's temp folder (database, store, server logs) instead of removing it at exit")


def scratch_folder(prefix: str, *, keep: bool) -> Path:
    """A new temp folder for the run's database, store and server logs (~170 MB after the load
    section), removed when the run exits unless `keep`."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if keep:
        print(f"[bench] the run's files stay in {folder}", flush=True)
    else:
        # Registered before the database starts: exit handlers run last first, so pgserver's stop
        # of the database comes before the folder goes.
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def start_serving_run(parser, prefix: str):
    """For a script that starts servers: its options parsed (with --keep-files), its temp folder,
    the servers' environment and Django set up; returns the options and the folder."""
    add_keep_files_option(parser)
    args = parser.parse_args()
    tmp = scratch_folder(prefix, keep=args.keep_files)
    serving_environment()
    setup_django(tmp)
    return args, tmp


def setup_django(tmp: Path):
    os.environ.update(
        RAGBASE_VAR_DIR=str(tmp / "var"), QDRANT_PATH=str(tmp / "qdrant"), RAGBASE_IGNORE_DOTENV="true",
        SECRET_KEY=secrets.token_hex(32), APP_ENCRYPTION_KEY=secrets.token_hex(32), LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="ragbase.settings",
    )
    os.environ["DATABASE_URL"] = embedded_database_url(tmp / "pgdata", cleanup_mode="delete")
    django.setup()
    call_command("migrate", verbosity=0)
