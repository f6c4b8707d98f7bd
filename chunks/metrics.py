"""The outbox's Prometheus series (ragbase.metrics serves them at /metrics):

  ragbase_outbox_pushed_total            chunk points upserted by drains (this process)
  ragbase_outbox_deleted_total           tombstones applied by drains (this process)
  ragbase_outbox_drain_errors_total      drain batches that failed against the store (this process)
  ragbase_outbox_chunks{status}          chunks per sync status      } read from Postgres at scrape
  ragbase_outbox_deletions_pending       deletions not yet applied   } time: every replica agrees
"""
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily

from chunks.models import SyncStatus

OUTBOX_PUSHED = Counter("ragbase_outbox_pushed", "Chunk points upserted to the vector store by drains.")
OUTBOX_DELETED = Counter("ragbase_outbox_deleted", "Vector deletions (tombstones) applied by drains.")
OUTBOX_DRAIN_ERRORS = Counter("ragbase_outbox_drain_errors", "Drain batches that failed against the store.")


_scrape_time_collectors = []


def register_scrape_time_collector(collector: "ScrapeTimeCollector") -> None:
    """Register `collector` with the process's registry and keep it for scrapes that read every
    process's series from files (ragbase.process_metrics), where it is added to theirs."""
    REGISTRY.register(collector)
    _scrape_time_collectors.append(collector)


def scrape_time_collectors() -> tuple:
    return tuple(_scrape_time_collectors)


class ScrapeTimeCollector:
    """Series read from Postgres when Prometheus scrapes, so every replica reports the same numbers.
    `families()` makes the series empty, `fill()` adds the samples. Registering asks only for the
    series' names (`describe`), so no query runs while the apps load."""

    def families(self) -> tuple:
        raise NotImplementedError

    def fill(self, *families) -> None:
        raise NotImplementedError

    def describe(self):
        return self.families()

    def collect(self):
        families = self.families()
        try:
            self.fill(*families)
        except Exception:
            return  # Postgres down: /readyz says so; the scrape still returns the other series.
        yield from families


class OutboxCollector(ScrapeTimeCollector):
    """Outbox counts per status, from `read_stats` (chunks.outbox.stats.stats; the app registers
    the collector with it, so the drain can record into this module without a circle)."""

    def __init__(self, read_stats):
        self.read_stats = read_stats

    def families(self):
        return (
            GaugeMetricFamily("ragbase_outbox_chunks", "Chunks by outbox sync status.", labels=["status"]),
            GaugeMetricFamily("ragbase_outbox_deletions_pending", "Vector deletions not yet applied."),
        )

    def fill(self, chunks, deletions):
        outbox = self.read_stats()
        for status in SyncStatus.values:
            chunks.add_metric([status], outbox.counts[status])
        deletions.add_metric([], outbox.deletions_pending)

