"""Every search counted for the editors' reports, written after the response, not while it waits.

``record`` only adds to this process's buffer; ``flush`` writes the buffer in one go: one UPDATE per
distinct words and day (Wagtail's ``QueryDailyHits``, read by *Popular searches*, and our
``ZeroResultSearch``), however many searches it counts. The buffer is flushed when a request has been
answered (``request_finished``, sent once the response is sent and closed) and when the process
exits, so counts are batched and never lost with a normal shutdown.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import date
from functools import cache

from django.core.signals import request_finished
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from wagtail.contrib.search_promotions.models import Query as LoggedQuery
from wagtail.contrib.search_promotions.models import QueryDailyHits
from wagtail.search.utils import normalise_query_string

logger = logging.getLogger("search")

_lock = threading.Lock()
_searches: Counter[tuple[str, date]] = Counter()
_zero: Counter[tuple[str, date]] = Counter()


def record(text: str, *, found_nothing: bool = False) -> None:
    """Count one search of ``text`` (and, if it found nothing, one zero-result search); written later."""
    if not text:
        return
    with _lock:
        # The day Wagtail's Query.add_hit counts on; zero results by the site's local day, as reported.
        _searches[(text, timezone.now().date())] += 1
        if found_nothing:
            normalised = normalise_query_string(text)[:255]
            if normalised:
                _zero[(normalised, timezone.localdate())] += 1


def pending() -> int:
    with _lock:
        return sum(_searches.values()) + sum(_zero.values())


def flush(**_signal_kwargs) -> None:
    """Write the buffered counts; what cannot be written now stays buffered for the next flush."""
    with _lock:
        if not (_searches or _zero):
            return
        searches, zero = _searches.copy(), _zero.copy()
        _searches.clear()
        _zero.clear()
    with _without_waiting():
        for counted, into, write in ((searches, _searches, _add_hits), (zero, _zero, _add_zero_result)):
            for (text, day), n in counted.items():
                try:
                    write(text, day, n)
                except DatabaseError as exc:
                    if "locked" in str(exc):
                        # A writer (an import, an editor) holds SQLite: counted at the next flush.
                        logger.debug("search %r not logged yet: %s", text, exc)
                    else:
                        logger.exception("could not log the search %r", text)
                    with _lock:
                        into[(text, day)] += n


@contextmanager
def _without_waiting():
    """On SQLite, a log write that would wait for another writer is put off instead: counting searches
    never queues behind an import or an editor's save, nor holds one up."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        timeout_ms = int(float(connection.settings_dict["OPTIONS"].get("timeout", 5)) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")


def _add_hits(text: str, day: date, n: int) -> None:
    # A word searched before that day costs one UPDATE, not Wagtail's three queries.
    params = [n, connection.ops.adapt_datefield_value(day), normalise_query_string(text)]
    with connection.cursor() as cursor:
        cursor.execute(_add_hits_sql(connection.vendor), params)
        counted = cursor.rowcount
    if not counted:
        query = LoggedQuery.get(text)
        with transaction.atomic():
            daily, _ = QueryDailyHits.objects.get_or_create(query=query, date=day)
            QueryDailyHits.objects.filter(pk=daily.pk).update(hits=F("hits") + n)


@cache
def _add_hits_sql(vendor: str) -> str:
    """What ``QueryDailyHits.objects.filter(query__query_string=..., date=...).update(hits=F("hits") +
    n)`` asks, written once: the ORM took 0.5 ms of CPU to build it on every search, fifteen times
    what running it takes."""
    q, hits, queries = connection.ops.quote_name, QueryDailyHits._meta, LoggedQuery._meta
    count = q(hits.get_field("hits").column)
    return (
        f"UPDATE {q(hits.db_table)} SET {count} = {count} + %s"
        f" WHERE {q(hits.get_field('date').column)} = %s AND {q(hits.get_field('query').column)} IN"
        f" (SELECT {q(queries.pk.column)} FROM {q(queries.db_table)}"
        f" WHERE {q(queries.get_field('query_string').column)} = %s)"
    )


def _add_zero_result(normalised: str, day: date, n: int) -> None:
    from search.models import ZeroResultSearch

    for _ in range(2):
        if ZeroResultSearch.objects.filter(query_string=normalised, date=day).update(hits=F("hits") + n):
            return
        try:
            with transaction.atomic():
                ZeroResultSearch.objects.create(query_string=normalised, date=day, hits=n)
            return
        except IntegrityError:
            continue  # another process created that day's row first: count on it


def connect() -> None:
    request_finished.connect(flush, dispatch_uid="search.searchlog.flush")
    atexit.register(flush)
