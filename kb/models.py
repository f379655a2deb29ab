from django.db import models


class RateCounter(models.Model):
    """Requests of one client in one scope during the current minute (``slot``), for kb.ratelimit.

    Counted with one atomic SQL upsert. On SQLite the counters live in a file of their own instead;
    the table exists there too, unused."""

    key = models.CharField(max_length=300, primary_key=True)
    slot = models.BigIntegerField()
    count = models.IntegerField()

    class Meta:
        db_table = "kb_ratecounter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
