from django.core.management.base import BaseCommand

from chunks.outbox.stats import stats


class Command(BaseCommand):
    help = "Show the outbox at a glance: chunks per status, oldest PENDING age, last error, deletions."

    def handle(self, *args, **options):
        health = stats()
        for status, count in health.counts.items():
            self.stdout.write(f"{status:<8} {count}")
        age = health.oldest_pending_age_seconds
        self.stdout.write(f"oldest PENDING: {'-' if age is None else f'{age:.0f} s'}")
        self.stdout.write(f"deletions: {health.deletions_pending} pending, {health.deletions_failed} failed")
        self.stdout.write(f"last error: {health.last_error or '-'}")
