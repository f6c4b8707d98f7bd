from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.backup.snapshots import ServerSnapshots
from chunks.management.operator import confirm
from chunks.vector_index import VectorStoreUnavailable


class Command(BaseCommand):
    help = (
        "A Qdrant server's collection snapshots (QDRANT_URL): create, list, download NAME PATH, restore "
        "PATH_OR_URL (priority=snapshot; only into a server of the same minor version). The embedded store "
        "has none: use export_vectors."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("create")
        actions.add_parser("list")
        download = actions.add_parser("download")
        download.add_argument("name")
        download.add_argument("path")
        restore = actions.add_parser("restore")
        restore.add_argument("source", help="a snapshot file here (uploaded) or a URL the server can fetch")
        restore.add_argument("--yes", action="store_true", help="do not ask")

    def handle(self, *args, action, **options):
        if not settings.QDRANT_URL:
            raise CommandError("snapshots are a Qdrant server feature (QDRANT_URL is not set); "
                               "back the embedded store up with `manage.py export_vectors PATH`")
        snapshots = ServerSnapshots(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY,
                                    collection=settings.QDRANT_COLLECTION, timeout=settings.QDRANT_TIMEOUT_SECONDS)
        try:
            if action == "create":
                made = snapshots.create()
                self.stdout.write(f"created {made.name} ({made.size:,} bytes)")
            elif action == "list":
                for snapshot in snapshots.list():
                    self.stdout.write(f"{snapshot.name}  {snapshot.creation_time or '?'}  {snapshot.size:,} bytes")
            elif action == "download":
                with tqdm(unit="B", unit_scale=True, desc="download", disable=None) as bar:
                    size = snapshots.download(options["name"], options["path"], progress=bar.update)
                self.stdout.write(f"downloaded {options['name']} to {options['path']} ({size:,} bytes)")
            else:
                confirm(self, f"Restoring replaces collection {settings.QDRANT_COLLECTION!r} with {options['source']} "
                              "(priority=snapshot).", yes=options["yes"])
                snapshots.restore(options["source"])
                self.stdout.write(f"restored {settings.QDRANT_COLLECTION!r} from {options['source']}; "
                                  "run `manage.py check_index` to compare it with Postgres")
        except (VectorStoreUnavailable, OSError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            snapshots.close()
