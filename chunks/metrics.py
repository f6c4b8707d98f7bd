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
from chunks.outbox.stats import stats

OUTBOX_PUSHED = Counter("ragbase_outbox_pushed", "Chunk points upserted to the vector store by drains.")
OUTBOX_DELETED = Counter("ragbase_outbox_deleted", "Vector deletions (tombstones) applied by drains.")
OUTBOX_DRAIN_ERRORS = Counter("ragbase_outbox_drain_errors", "Drain batches that failed against the store.")


class OutboxCollector:
    """Outbox counts per status, queried at scrape time."""

    @staticmethod
    def _families():
        return (
            GaugeMetricFamily("ragbase_outbox_chunks", "Chunks by outbox sync status.", labels=["status"]),
            GaugeMetricFamily("ragbase_outbox_deletions_pending", "Vector deletions not yet applied."),
        )

    def describe(self):
        # Registering asks for the series' names: no database query while the apps load.
        return self._families()

    def collect(self):
        try:
            outbox = stats()
        except Exception:
            return  # Postgres down: /readyz says so; the scrape still returns the other series.
        chunks, deletions = self._families()
        for status in SyncStatus.values:
            chunks.add_metric([status], outbox.counts[status])
        deletions.add_metric([], outbox.deletions_pending)
        yield from (chunks, deletions)


REGISTRY.register(OutboxCollector())
