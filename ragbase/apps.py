from django.apps import AppConfig


class RagbaseConfig(AppConfig):
    name = "ragbase"
    verbose_name = "ragbase"

    def ready(self):
        from ragbase import checks  # noqa: F401  (registers the system checks)
