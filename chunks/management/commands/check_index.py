from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chunks.management.operator import confirm, open_store, reembedding_cost
from chunks.outbox.drain import drain
from chunks.models import IndexCheck
from chunks.services.index_check import check_index, record_check, repair_index
from chunks.services.rebuild import embedding_rate
from chunks.vector_index import VectorStoreUnavailable

KINDS = (("missing", "SYNCED chunks missing from the store"), ("orphans", "points whose chunk is gone"),
         ("wrong_payload", "points whose payload disagrees with Postgres"))


class Command(BaseCommand):
    help = (
        "Compare Postgres with the vector store: SYNCED chunks missing from the store, points whose chunk is "
        "gone, points whose payload (owner, document, ...) disagrees. --repair fixes each the cheapest safe "
        "way (orphans deleted through the outbox, payloads rewritten in place, only chunks whose vectors are "
        "gone embedded again), after showing the cost. Embedded mode: stop `serve` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true")
        parser.add_argument("--yes", action="store_true", help="repair without asking")

    def handle(self, *args, repair, yes, **options):
        index = open_store()
        try:
            with tqdm(unit="item", desc="check", disable=None) as bar:
                report = check_index(index=index, progress=bar.update)
            record_check(report, kind=IndexCheck.Kind.FULL)  # the admin's outbox panel shows the newest
            self.stdout.write(f"{report.summary()} ({report.seconds:.1f} s)")
            for kind, label in KINDS:
                count = getattr(report, kind)
                if count:
                    self.stdout.write(f"{count} {label}, e.g.:")
                    for example in report.examples[kind]:
                        self.stdout.write(f"  {example}")
            if report.ok:
                self.stdout.write(self.style.SUCCESS("Postgres and the vector store agree"))
                return
            if not repair:
                raise CommandError("Postgres and the vector store disagree; `manage.py check_index --repair` fixes it")
            rate = embedding_rate() if report.missing else 0.0
            confirm(self, f"Repair: {report.orphans} orphan points deleted through the outbox, {report.wrong_payload} "
                          f"payloads rewritten in place, {reembedding_cost(report.missing, rate)}.", yes=yes)
            with tqdm(unit="item", desc="repair", disable=None) as bar:
                repaired = repair_index(index=index, progress=bar.update)
            pushed = drain(index=index)
        except VectorStoreUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"repaired: {repaired.tombstoned} orphan points queued for deletion, {repaired.payloads_rewritten} "
            f"payloads rewritten, {repaired.reembedded} chunks embedded again; the outbox then pushed "
            f"{pushed.synced} chunks and deleted {pushed.deleted} points ({pushed.deferred} waiting, {pushed.failed} failed)"
        )
