"""Search's Prometheus series (ragbase.metrics serves them at /metrics):

  ragbase_search_latency_seconds{mode}   the search service: embedding the query, the vector
                                         store's answer and reading the hits from Postgres
"""
from prometheus_client import Histogram

SEARCH_LATENCY = Histogram(
    "ragbase_search_latency_seconds",
    "Search service latency (embedding the query + vector store + reading rows).",
    ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
