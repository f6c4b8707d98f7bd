"""Drive's Prometheus series (the project wires the collector into /metrics):

  ragbase_drive_sync_errors_total               sync runs that stopped or ended with failed files
  ragbase_drive_sync_runs{phase}                runs by phase (listing, processing, waiting; done/stopped not kept)
  ragbase_drive_sync_files{state}               files of active runs: queued, in_progress (the backlog)
  ragbase_drive_sync_oldest_heartbeat_seconds   age of the stalest active run's last sign of life

Totals only (no per-user labels): the page and the admin show each connection's numbers.
"""
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

DRIVE_SYNC_ERRORS = Counter("ragbase_drive_sync_errors", "Google Drive sync runs that ended in an error.")


class DriveSyncCollector:
    """Read at scrape time from Postgres, so every replica reports the same backlog."""

    def collect(self):
        from drive.selectors import backlog_totals

        try:
            totals = backlog_totals()
        except Exception:
            return  # Postgres down: /readyz says so; the scrape still returns the other series.
        runs = GaugeMetricFamily("ragbase_drive_sync_runs", "Active Drive sync runs by phase.", labels=["phase"])
        for phase, count in totals.runs_by_phase.items():
            runs.add_metric([phase], count)
        files = GaugeMetricFamily("ragbase_drive_sync_files", "Files of active Drive syncs still to process.",
                                  labels=["state"])
        files.add_metric(["queued"], totals.queued)
        files.add_metric(["in_progress"], totals.in_progress)
        yield runs
        yield files
        yield GaugeMetricFamily("ragbase_drive_sync_oldest_heartbeat_seconds",
                                "Seconds since the stalest active Drive sync last made progress.",
                                value=totals.oldest_heartbeat_seconds)
