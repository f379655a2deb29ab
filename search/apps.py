from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # Index on publish, not on save, so drafts never reach search.
        from search import signals

        signals.connect()
