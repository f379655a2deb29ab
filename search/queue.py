"""Index updates Elasticsearch could not take, kept in the database and replayed in order.

Every update goes through the queue: it is written first, then the queue is replayed from its head,
so a new update can never overtake an older one still waiting. A row is deleted in the transaction
that applied it, and the head row is locked while it is applied, so two workers replaying at once
take turns. Updates are whole-page upserts and removals: should a worker die after Elasticsearch
took an update but before its row was deleted, applying it again leaves the same index.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from search.engines.base import DocumentPart, Engine, EngineUnavailable, Entry

logger = logging.getLogger("search")

INDEX = "index"
REMOVE = "remove"
# Refused this many times for a reason other than an outage (a mapping error, a bad payload), an
# update is set aside as failed, so the updates behind it are not held up for ever.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Replay:
    applied: int
    remaining: int
    error: str = ""


def entry_to_json(entry: Entry) -> dict:
    data = asdict(entry)
    data["date"] = entry.date.isoformat() if entry.date else None
    data["expires"] = entry.expires.isoformat() if entry.expires else None
    data["tags"] = list(entry.tags)
    data["facets"] = {k: list(v) for k, v in entry.facets.items()}
    return data


def entry_from_json(data: dict) -> Entry:
    data = dict(data)
    data["date"] = datetime.fromisoformat(data["date"]) if data.get("date") else None
    data["expires"] = datetime.fromisoformat(data["expires"]) if data.get("expires") else None
    data["tags"] = tuple(data.get("tags", ()))
    data["facets"] = {k: tuple(v) for k, v in data.get("facets", {}).items()}
    data["document"] = DocumentPart(**data["document"]) if data.get("document") else None
    return Entry(**data)


def apply(engine: Engine, updates: list[tuple[str, int, dict]]) -> None:
    """Apply consecutive updates as one: each is a page's whole state, so the last per page wins."""
    latest: dict[int, tuple[str, dict]] = {}
    for action, page_id, payload in updates:
        latest.pop(page_id, None)
        latest[page_id] = (action, payload)
    entries = [
        entry_from_json(e)
        for action, payload in latest.values()
        if action == INDEX
        for e in payload.get("entries", [])
    ]
    engine.replace_pages(list(latest), entries)


def replay(engine: Engine, model, limit: int | None = None, batch: int = 100) -> Replay:
    """Apply queued updates oldest first until the queue is empty, the engine fails, or ``limit`` rows.

    An outage stops the replay with the head row kept. Any other error is tried again on the head row
    alone, so only the update at fault is charged; after ``MAX_ATTEMPTS`` it is marked failed and
    the replay goes on past it.
    """
    applied = 0
    alone = False
    while limit is None or applied < limit:
        size = 1 if alone else batch if limit is None else min(batch, limit - applied)
        with transaction.atomic():
            rows = list(queued(model).select_for_update().order_by("id")[:size])
            if not rows:
                break
            try:
                apply(engine, [(r.action, r.page_id, r.payload) for r in rows])
            except Exception as exc:
                if not isinstance(exc, EngineUnavailable) and len(rows) > 1:
                    alone = True
                    continue
                # Kept at the head, so nothing behind it overtakes it; the admin shows the error.
                head = rows[0]
                model.objects.filter(pk=head.pk).update(
                    attempts=F("attempts") + 1, last_error=str(exc)[:2000]
                )
                if isinstance(exc, EngineUnavailable):
                    return Replay(applied, pending(model), str(exc))
                logger.exception("index update %s could not be applied", head.pk)
                if head.attempts + 1 < MAX_ATTEMPTS:
                    return Replay(applied, pending(model), str(exc))
                model.objects.filter(pk=head.pk).update(failed_at=timezone.now())
                logger.error("index update %s set aside as failed after %s attempts", head.pk, MAX_ATTEMPTS)
                alone = False
                continue
            queued(model).filter(pk__in=[r.pk for r in rows]).delete()
        applied += len(rows)
        alone = False
    return Replay(applied, pending(model))


def submit_pages(engine: Engine, model, entries_by_page: dict[int, list[Entry]]) -> Replay:
    """Queue the new state of several pages (no entries: the page leaves the index), then replay."""
    model.objects.bulk_create(
        model(
            action=INDEX if entries else REMOVE,
            page_id=page_id,
            payload={"entries": [entry_to_json(e) for e in entries]} if entries else {},
        )
        for page_id, entries in entries_by_page.items()
    )
    return replay(engine, model)


def queued(model):
    """Updates still to apply, failed ones left out."""
    return model.objects.filter(failed_at__isnull=True)


def pending(model) -> int:
    return queued(model).count()


def failed(model) -> int:
    return model.objects.filter(failed_at__isnull=False).count()
