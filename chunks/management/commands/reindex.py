from django.core.management.base import BaseCommand
from tqdm import tqdm

from chunks.models import Chunk
from chunks.services.rebuild import rebuild_collection


class Command(BaseCommand):
    help = (
        "Recreate the vector collection from Postgres: re-embed every chunk from its text, then push. "
        "In embedded mode stop `manage.py serve` first (it owns the store)."
    )

    def handle(self, *args, **options):
        total = Chunk.objects.count()
        bars = {
            "embedded": tqdm(total=total, unit="chunk", desc="embed", disable=None),
            "pushed": tqdm(total=total, unit="chunk", desc="push", disable=None),
        }
        try:
            result = rebuild_collection(progress=lambda stage, n: bars[stage].update(n))
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"reindexed {total} chunks: {result.synced} synced, {result.failed} failed")
