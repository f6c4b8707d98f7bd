"""Sources whose bytes ragbase does not keep (Google Drive): re-chunking and re-ingesting their
documents means fetching them again, which the app that owns the source does. That app registers
how (its AppConfig.ready), so this app imports none of them."""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q


@dataclass(frozen=True)
class RefetchingSource:
    """`fetch_again(documents=, dry_run=)` queues the documents to be fetched again and returns a
    sentence per document id saying what happens to it; a document left out cannot be fetched
    again (e.g. a failed one while its Drive needs reconnecting). `lacking_headings` selects the
    source's documents whose stored form cannot carry heading paths (e.g. exported as plain text)."""

    fetch_again: Callable[..., dict[int, str]]
    lacking_headings: Q = field(default_factory=lambda: Q(pk__in=[]))


_REFETCHING: dict[str, RefetchingSource] = {}


def register_refetching_source(source: str, **kwargs) -> None:
    _REFETCHING[source] = RefetchingSource(**kwargs)


def refetching_sources() -> dict[str, RefetchingSource]:
    return dict(_REFETCHING)
