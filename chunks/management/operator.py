"""What the vector store commands share: opening the configured store with a one-line error, the
cost of embedding again, and asking before an expensive step."""
import sys

from django.core.management.base import CommandError

from chunks.vector_index import VectorStoreUnavailable, get_vector_index


def open_store():
    """The configured vector store; in embedded mode this process must be its only owner (stop
    `serve` first), which the error says in one line."""
    try:
        index = get_vector_index()
        index.recorded_spec()  # opens the store now, so a locked or unreachable one fails here
    except VectorStoreUnavailable as exc:
        raise CommandError(str(exc)) from None
    return index


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def reembedding_cost(chunks: int, rate: float) -> str:
    """"N chunks to embed again: about T at R chunks/s (measured here on a sample)"."""
    if not chunks:
        return "no chunk to embed again"
    if rate <= 0:
        return f"{chunks} chunks to embed again"
    return (f"{chunks} chunks to embed again: about {duration(chunks / rate)} at {rate:.1f} chunks/s "
            "(measured here on a sample)")


def confirm(command, question: str, *, yes: bool) -> None:
    """Go on only if `yes` or the operator answers y; without a terminal, `--yes` is required."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(f"{question} Not confirmed: run with --yes to go ahead without a terminal.")
    answer = input(f"{question} Continue? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CommandError("stopped; nothing was changed")
