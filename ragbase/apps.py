from django.apps import AppConfig


class RagbaseConfig(AppConfig):
    name = "ragbase"
    verbose_name = "ragbase"

    def ready(self):
        # Imported here: the checks read settings and models once the app registry is ready.
        from ragbase import checks  # noqa: F401  (registers the system checks)
        from ragbase import openapi  # noqa: F401  (registers the API token scheme with drf-spectacular)
