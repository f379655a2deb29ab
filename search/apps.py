from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # Index on publish, not on save, so drafts never reach search.
        from search import searchlog, service, signals

        signals.connect()
        # Sites and editors' picks are kept in each process until one of them changes.
        service.connect()
        # Searches are counted after their response is sent, not while it waits on the database.
        searchlog.connect()
