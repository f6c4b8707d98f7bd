import time
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.management.operator import confirm, duration, reembedding_cost
from chunks.models import Chunk
from chunks.services.rebuild import embedding_rate
from chunks.services.rechunk import rechunk, select_documents


class Command(BaseCommand):
    help = (
        "Extract and chunk indexed documents again with today's extraction (heading paths, cleaner text), "
        "from their stored uploads or ingested paths; Google Drive files are fetched again by their owner's sync run. "
        "New chunks go through the outbox (old ones deleted, new ones PENDING); a document whose chunks come "
        "out the same is left as it is, so running it again does nothing. Choose documents with --all, --user, "
        "--document or --lacking-headings; --dry-run counts the chunks to embed and the time it takes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", dest="everything", action="store_true", help="every indexed document")
        parser.add_argument("--user", action="append", default=[], metavar="USERNAME", help="that user's documents")
        parser.add_argument("--document", action="append", default=[], type=int, metavar="ID", help="that document")
        parser.add_argument("--lacking-headings", action="store_true",
                            help="only documents without heading paths (chunked before paths were recorded, "
                                 "or Google Docs exported as plain text)")
        parser.add_argument("--dry-run", action="store_true", help="count and estimate; change nothing")
        parser.add_argument("--batch", type=int, default=16, help="documents embedded together")
        parser.add_argument("--yes", action="store_true", help="do not ask")

    def handle(self, *args, everything, user, document, lacking_headings, dry_run, batch, yes, **options):
        if not (everything or user or document or lacking_headings):
            raise CommandError("choose the documents: --all, --user USERNAME, --document ID or --lacking-headings")
        unknown = set(user) - set(get_user_model().objects.filter(username__in=user).values_list("username", flat=True))
        if unknown:
            raise CommandError(f"no user named {', '.join(sorted(unknown))}")
        documents = select_documents(usernames=user, document_ids=document, lacking_headings=lacking_headings)
        total = documents.count()
        missing = set(document) - set(documents.filter(pk__in=document).values_list("pk", flat=True))
        if missing:
            self.stderr.write(f"not indexed (failed, queued or unknown), left out: {sorted(missing)}")
        if not total:
            self.stdout.write("no document to re-chunk")
            return
        rate = embedding_rate() if not yes or dry_run else 0.0
        if not dry_run:
            current = Chunk.objects.filter(document__in=documents).count()
            confirm(self, f"{total} documents to re-chunk, {current} chunks now: at most "
                          f"{reembedding_cost(current, rate)}.", yes=yes)
        counts = {"rechunked": 0, "unchanged": 0, "refetch": 0, "failed": 0}
        embedded = refetch_chunks = 0
        refetch = Counter()  # (owner, what happens) -> Drive files
        started = time.monotonic()
        with tqdm(total=total, unit="doc", desc="re-chunk", disable=None if options["verbosity"] else True) as bar:
            for outcome in rechunk(documents=documents, dry_run=dry_run, batch_size=batch):
                counts[outcome.status] += 1
                if outcome.status == "rechunked":
                    embedded += outcome.chunks
                elif outcome.status == "refetch":
                    refetch_chunks += outcome.chunks
                    refetch[(outcome.document.owner.username, outcome.message)] += 1
                elif outcome.status == "failed":
                    with tqdm.external_write_mode():
                        self.stdout.write(f"{outcome.status}: document {outcome.document.pk} “{outcome.document.title}” "
                                          f"({outcome.document.owner.username}): {outcome.message}")
                bar.update(1)
        seconds = time.monotonic() - started
        for (owner, message), n in sorted(refetch.items()):
            self.stdout.write(f"{owner}: {n} Google Drive files {message}")
        self._report(counts, embedded, refetch_chunks, seconds, rate, dry_run)
        if counts["failed"] and not dry_run:
            raise CommandError(f"{counts['failed']} documents could not be re-chunked (listed above); "
                               "the others were")

    def _report(self, counts, embedded, refetch_chunks, seconds, rate, dry_run):
        verb = "to re-chunk" if dry_run else "re-chunked"
        lines = [f"{counts['rechunked']} documents {verb}: {embedded} chunks "
                 f"{'to embed' if dry_run else 'embedded, PENDING until the outbox pushes them'}",
                 f"{counts['unchanged']} unchanged (the same chunks: nothing to do)"]
        if counts["refetch"]:
            lines.append(f"{counts['refetch']} Google Drive files to fetch again: their sync exports or downloads "
                         f"them ({refetch_chunks} chunks now; the sync's workers embed the new ones)")
        if counts["failed"]:
            lines.append(f"{counts['failed']} failed (listed above; their chunks are kept)")
        if dry_run:
            lines.append(f"estimated: {reembedding_cost(embedded, rate)}" + (
                f"; Drive files, about {duration(refetch_chunks / rate)} more in the sync" if refetch_chunks and rate
                else ""))
            lines.append("dry run: nothing was changed")
        elif embedded:
            lines.append(f"{embedded} chunks in {duration(seconds)} ({embedded / max(seconds, 1e-9):.1f} chunks/s)")
        self.stdout.write("\n".join(lines))
