from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.backup.fileformat import BadVectorFile
from chunks.backup.transfer import VectorFileMismatch, import_vectors, read_header
from chunks.embedding import get_embedder
from chunks.management.operator import open_store
from chunks.services.index_check import check_index
from chunks.vector_index import VectorStoreUnavailable


class Command(BaseCommand):
    help = (
        "Load a file written by export_vectors into the vector store (an empty collection or one made for "
        "the same model and dimension), then check that the store holds exactly the chunks Postgres marks "
        "SYNCED. Importing twice changes nothing; an interrupted import is run again. Embedded mode: stop "
        "`serve` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        index = open_store()
        try:
            header = read_header(path)
            # The vectors must be the ones this installation searches with: the collection's, or the
            # embedder's when there is no collection yet.
            expected = index.recorded_spec()
            if expected is None:
                embedder = get_embedder()
                expected = {"dense_dim": embedder.dense_dim, "model_id": embedder.model_id}
            self.stdout.write(f"{path}: {header.points} points of {header.model_id} ({header.dense_dim}-d), "
                              f"exported from {header.source or 'unknown'} at {header.created_at or '?'}; verifying …")
            with tqdm(total=header.points, unit="point", desc="import", disable=None) as bar:
                result = import_vectors(index=index, path=path, expected=expected, progress=bar.update)
            self.stdout.write(f"imported {result.points} points into collection {index.collection!r} ({index.backend_name})")
            with tqdm(unit="item", desc="check against Postgres", disable=None) as bar:
                report = check_index(index=index, payloads=False, progress=bar.update)
        except (BadVectorFile, VectorFileMismatch) as exc:
            raise CommandError(f"{path}: {exc}; nothing was written") from None
        except (VectorStoreUnavailable, OSError) as exc:
            raise CommandError(str(exc)) from None
        report_differences(self, report, what="the store")


def report_differences(command, report, *, what):
    """Print whether `what` holds exactly the SYNCED chunks; a difference is a non-zero exit."""
    if report.missing == 0 and report.orphans == 0:
        command.stdout.write(command.style.SUCCESS(
            f"{what} holds exactly the {report.synced} chunks Postgres marks SYNCED"))
        return
    for kind in ("missing", "orphans"):
        for example in report.examples[kind]:
            command.stdout.write(f"  {kind}: {example}")
    raise CommandError(
        f"{what} differs from Postgres: {report.missing} SYNCED chunks have no point, {report.orphans} points "
        "have no chunk; `manage.py check_index --repair` fixes both"
    )
