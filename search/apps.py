from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # Imported here, once the app registry is ready, like every app's registrations.
        from search import checks, metrics  # noqa: F401  (register the system checks, the latency histogram)
