import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.backup.transfer import VectorFileMismatch, export_vectors
from chunks.management.operator import open_store
from chunks.vector_index import VectorStoreUnavailable


class Command(BaseCommand):
    help = (
        "Write every point of the vector store (ids, dense and sparse vectors, payloads) to one portable "
        "file, so the store can be restored without embedding again. Embedded mode: stop `serve` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write (replaced only once the export is complete).")

    def handle(self, *args, path, **options):
        index = open_store()
        try:
            with tqdm(total=index.count() if index.recorded_spec() else 0, unit="point", desc="export",
                      disable=None) as bar:
                result = export_vectors(index=index, path=path, progress=bar.update)
        except (VectorFileMismatch, VectorStoreUnavailable, OSError) as exc:
            raise CommandError(str(exc)) from None
        size = os.path.getsize(path)
        self.stdout.write(
            f"exported {result.points} points ({result.header.dense_dim}-d, {result.header.model_id}) to {path}: "
            f"{size:,} bytes, {size / max(result.points, 1):,.0f} bytes/point"
        )
