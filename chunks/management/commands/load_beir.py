from itertools import islice
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.beir import read_corpus
from chunks.models import Document
from chunks.services.ingestion import IngestItem, ingest_batch


def load_corpus(*, dataset: Path, owner, batch: int = 64, limit: int | None = None, progress=None) -> dict:
    """Ingest a BEIR corpus, one document per row (source id = the BEIR doc id). Returns state counts."""
    states: dict[str, int] = {}
    rows = read_corpus(dataset)
    if limit:
        rows = islice(rows, limit)
    while chunk := list(islice(rows, batch)):
        items = [
            IngestItem(owner, Document.Source.UPLOAD, doc_id, title, "text/plain", text.encode("utf-8"))
            for doc_id, title, text in chunk
        ]
        for document in ingest_batch(items=items):
            states[document.state] = states.get(document.state, 0) + 1
        if progress:
            progress(len(items))
    return states


class Command(BaseCommand):
    help = "Load a BEIR-format corpus (corpus.jsonl) as documents of a user."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, type=Path)
        parser.add_argument("--owner", required=True)
        parser.add_argument("--batch", type=int, default=64)
        parser.add_argument("--limit", type=int, help="Only the first N documents.")

    def handle(self, *args, dataset, owner, batch, limit, **options):
        dataset = Path(dataset)
        if not (dataset / "corpus.jsonl").exists():
            raise CommandError(f"{dataset}/corpus.jsonl not found (expected a BEIR-format dataset folder)")
        user, _ = get_user_model().objects.get_or_create(username=owner)
        total = limit or sum(1 for _ in open(dataset / "corpus.jsonl", encoding="utf-8"))
        with tqdm(total=total, unit="doc", disable=options["verbosity"] == 0) as bar:
            states = load_corpus(dataset=dataset, owner=user, batch=batch, limit=limit, progress=bar.update)
        chunks = user.chunks.count()
        self.stdout.write(self.style.SUCCESS(f"{sum(states.values())} documents {states}; {chunks} chunks"))
