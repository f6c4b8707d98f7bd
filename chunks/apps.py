from django.apps import AppConfig


class ChunksConfig(AppConfig):
    name = "chunks"
    verbose_name = "Documents and chunks"

    def ready(self):
        from chunks.outbox_triggers import on_outbox_has_work
        from chunks.signals import outbox_has_work

        outbox_has_work.connect(on_outbox_has_work, dispatch_uid="chunks.outbox_triggers")
