from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.evaluation.beir import corpus_size, is_dataset, read_corpus
from search.evaluation.loading import load_corpus


class Command(BaseCommand):
    help = "Load a BEIR-format corpus (corpus.jsonl) as documents of a user (the outbox then pushes them)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, type=Path)
        parser.add_argument("--owner", required=True)
        parser.add_argument("--batch", type=int, default=64)
        parser.add_argument("--limit", type=int, help="Only the first N documents.")

    def handle(self, *args, dataset, owner, batch, limit, **options):
        if not is_dataset(dataset):
            raise CommandError(f"{dataset}/corpus.jsonl not found (expected a BEIR-format dataset folder)")
        user, _ = get_user_model().objects.get_or_create(username=owner)
        with tqdm(total=limit or corpus_size(dataset), unit="doc", disable=options["verbosity"] == 0) as bar:
            states = load_corpus(rows=read_corpus(dataset), owner=user, batch_size=batch, limit=limit,
                                 progress=bar.update)
        chunks = user.chunks.count()
        self.stdout.write(self.style.SUCCESS(f"{sum(states.values())} documents {states}; {chunks} chunks"))
