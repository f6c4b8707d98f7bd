from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # Imported here, once the app registry is ready, like every app's registrations.
        from search import metrics  # noqa: F401  (registers the search latency histogram)
