from django.core.management.base import BaseCommand
from tqdm import tqdm

from chunks.management.operator import confirm, open_store, reembedding_cost
from chunks.models import Chunk
from chunks.services.rebuild import embedding_rate, rebuild_collection


class Command(BaseCommand):
    help = (
        "Recreate the vector collection from Postgres: re-embed every chunk from its text, then push. Only "
        "needed for a new embedding model: a lost store comes back from `import_vectors` without embedding. "
        "Asks first, with the estimated time (--yes skips). In embedded mode stop `manage.py serve` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="do not ask")

    def handle(self, *args, yes, **options):
        index = open_store()
        total = Chunk.objects.count()
        rate = embedding_rate() if total and not yes else 0.0
        confirm(self, f"reindex drops the collection and embeds every chunk again: {reembedding_cost(total, rate)}. "
                      "A store that was exported comes back faster with `manage.py import_vectors`.", yes=yes)
        bars = {
            "embedded": tqdm(total=total, unit="chunk", desc="embed", disable=None),
            "pushed": tqdm(total=total, unit="chunk", desc="push", disable=None),
        }
        try:
            result = rebuild_collection(index=index, progress=lambda stage, n: bars[stage].update(n))
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"reindexed {total} chunks: {result.synced} synced, {result.failed} failed")
