from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.backup.transfer import VectorFileMismatch, copy_collection
from chunks.management.commands.import_vectors import report_differences
from chunks.management.operator import open_store
from chunks.vector_index import VectorStoreUnavailable, build_vector_index


class Command(BaseCommand):
    help = (
        "Copy the configured vector store into another one without embedding anything: the embedded store "
        "into a Qdrant server (--url), or a server's collection into an embedded folder (--path); then "
        "check that the target holds exactly the chunks Postgres marks SYNCED and say how to switch. "
        "Embedded mode: stop `serve` first."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--url", help="a Qdrant server, e.g. http://qdrant:6333")
        target.add_argument("--path", help="an embedded store folder (a new QDRANT_PATH)")
        parser.add_argument("--api-key", default="", help="the server's API key (default: none)")
        parser.add_argument("--collection", default=None, help="target collection (default: QDRANT_COLLECTION)")

    def handle(self, *args, url, path, api_key, collection, **options):
        source = open_store()
        collection = collection or settings.QDRANT_COLLECTION
        if url and url == settings.QDRANT_URL and collection == settings.QDRANT_COLLECTION:
            raise CommandError("the target is the configured store itself")
        try:
            target = build_vector_index(url=url, api_key=api_key, path=path, collection=collection)
            with tqdm(total=source.count() if source.recorded_spec() else 0, unit="point", desc="copy",
                      disable=None) as bar:
                result = copy_collection(source=source, target=target, progress=bar.update)
        except (VectorFileMismatch, VectorStoreUnavailable) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"copied {result.points} points into {collection!r} at {url or path}")
        try:
            report_differences(self, result.check, what="the target")
        finally:
            target.close()
        if url:
            self.stdout.write(f"To switch: set QDRANT_URL={url}" + (" and QDRANT_API_KEY" if api_key else "")
                              + f" (QDRANT_COLLECTION={collection}) in .env and restart. The embedded folder "
                              f"{settings.QDRANT_PATH} is not changed: keep it until the server has served a while.")
        else:
            self.stdout.write(f"To switch: unset QDRANT_URL, set QDRANT_PATH={path} (QDRANT_COLLECTION={collection}) "
                              "in .env and restart `serve`.")
