from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.extraction import guess_mime_type
from chunks.models import Document
from chunks.services.ingestion import IngestItem, ingest_in_batches
from chunks.services.rechunk import PATH_SOURCE_PREFIX


class Command(BaseCommand):
    help = "Ingest files and folders (recursively) for a user: extract, chunk, embed, store PENDING chunks."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--owner", required=True, help="Username that will own the documents.")
        parser.add_argument("--batch", type=int, default=32, help="Files embedded together.")

    def handle(self, *args, paths, owner, batch, **options):
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"no user named {owner!r}")
        files = sorted({f for p in map(Path, paths) for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()})
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")
        items = (
            IngestItem(owner=user, source=Document.Source.UPLOAD, source_id=f"{PATH_SOURCE_PREFIX}{f.resolve()}",
                       title=f.name, mime_type=guess_mime_type(f.name), content=f.read_bytes())
            for f in files
        )
        states = {}
        with tqdm(total=len(files), unit="file", disable=options["verbosity"] == 0) as bar:
            for document in ingest_in_batches(items=items, batch_size=batch, progress=bar.update):
                states[document.state] = states.get(document.state, 0) + 1
                if document.state == Document.State.FAILED:
                    tqdm.write(f"failed: {document.title}: {document.error}")
        summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"{len(files)} file(s): {summary}"))
