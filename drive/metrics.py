"""Drive's Prometheus series (ragbase.metrics serves them at /metrics):

  ragbase_drive_sync_errors_total               sync runs that stopped or ended with failed files
  ragbase_drive_sync_runs{phase}                runs by phase (listing, processing, waiting; done/stopped not kept)
  ragbase_drive_sync_files{state}               files of active runs: queued, in_progress (the backlog)
  ragbase_drive_sync_oldest_heartbeat_seconds   age of the stalest active run's last sign of life

Totals only (no per-user labels): the page and the admin show each connection's numbers.
"""
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from chunks.metrics import ScrapeTimeCollector, register_scrape_time_collector
from drive.selectors import backlog_totals

DRIVE_SYNC_ERRORS = Counter("ragbase_drive_sync_errors", "Google Drive sync runs that ended in an error.")


class DriveSyncCollector(ScrapeTimeCollector):
    """The backlog of active syncs."""

    def families(self):
        return (
            GaugeMetricFamily("ragbase_drive_sync_runs", "Active Drive sync runs by phase.", labels=["phase"]),
            GaugeMetricFamily("ragbase_drive_sync_files", "Files of active Drive syncs still to process.",
                              labels=["state"]),
            GaugeMetricFamily("ragbase_drive_sync_oldest_heartbeat_seconds",
                              "Seconds since the stalest active Drive sync last made progress."),
        )

    def fill(self, runs, files, oldest_heartbeat):
        totals = backlog_totals()
        for phase, count in totals.runs_by_phase.items():
            runs.add_metric([phase], count)
        files.add_metric(["queued"], totals.queued)
        files.add_metric(["in_progress"], totals.in_progress)
        oldest_heartbeat.add_metric([], totals.oldest_heartbeat_seconds)


register_scrape_time_collector(DriveSyncCollector())
