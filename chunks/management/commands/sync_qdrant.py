from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.models import Chunk, SyncStatus, VectorDeletion
from chunks.outbox.drain import drain, settle_long_lived_objects


class Command(BaseCommand):
    help = "Push every due PENDING chunk and deletion to the vector store now (the outbox drain)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, batch_size, **options):
        # On demand means now: rows waiting out a backoff are due at once.
        Chunk.objects.filter(sync_status=SyncStatus.PENDING, next_attempt_at__isnull=False).update(next_attempt_at=None)
        VectorDeletion.objects.filter(failed=False, next_attempt_at__isnull=False).update(next_attempt_at=None)
        due = Chunk.objects.filter(sync_status=SyncStatus.PENDING).count() + VectorDeletion.objects.filter(
            failed=False
        ).count()
        settle_long_lived_objects()
        with tqdm(total=due, unit="item", desc="outbox", disable=None) as bar:
            result = drain(batch_size=batch_size, progress=lambda b: bar.update(b.synced + b.deleted + b.failed + b.deferred))
        self.stdout.write(
            f"synced {result.synced} chunks, deleted {result.deleted} points, "
            f"{result.deferred} waiting for a retry, {result.failed} failed"
        )
        if result.store_unavailable:
            raise CommandError(f"the vector store is unavailable: {result.errors[-1]}")
