from django.db import models


class PendingIndexUpdate(models.Model):
    """An index update Elasticsearch could not take yet, kept until it can, replayed in id order."""

    class Action(models.TextChoices):
        INDEX = "index", "Index"
        REMOVE = "remove", "Remove"

    id = models.BigAutoField(primary_key=True)
    action = models.CharField(max_length=6, choices=Action.choices)
    page_id = models.PositiveIntegerField()
    # {"entries": [...]} for "index": the entries as they were when the page was published.
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set when the engine kept refusing it for a reason waiting will not cure: skipped, kept to inspect.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "search"
        ordering = ["id"]
        verbose_name = "pending index update"

    def __str__(self) -> str:
        return f"{self.action} page {self.page_id} (queued {self.created_at:%Y-%m-%d %H:%M})"


class UnindexedChange(models.Model):
    """A page whose committed change the index has not taken yet.

    Written in the same transaction as the change (an import batch), deleted once the index took it:
    a crash in between leaves the row, and ``manage.py search_sync`` or the next import replays it.
    """

    id = models.BigAutoField(primary_key=True)
    page_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "search"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"page {self.page_id} (changed {self.created_at:%Y-%m-%d %H:%M})"


class ZeroResultSearch(models.Model):
    """A search that found nothing, counted per normalised query and day (Wagtail logs only popular ones)."""

    query_string = models.CharField(max_length=255)
    date = models.DateField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "search"
        ordering = ["-date", "-hits"]
        verbose_name = "search with no results"
        verbose_name_plural = "searches with no results"
        constraints = [
            models.UniqueConstraint(fields=["query_string", "date"], name="search_zero_result_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.query_string} ({self.date}: {self.hits})"
