"""Exports: any search, as CSV or JSON lines in the import format, streamed.

An export is a saved search: it runs through ``search.service`` like the search page, so only what
the index holds (live, public pages) can come out; each page is checked against the database again
before it is written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import islice
from types import MappingProxyType

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from wagtail.models import Page

from practices import visibility
from practices.imports.format import COLUMNS, SECTION_FIELDS, html_to_text
from practices.models import PracticePage
from search import service
from search.query import Query, parse

EXPORT_PER_PAGE = 500
LOAD_CHUNK = 200
CSV_COLUMNS = (*COLUMNS, "url")


def practice_query(query: Query, per_page: int = EXPORT_PER_PAGE) -> Query:
    """The query limited to practices, without facets or highlights (nothing here shows them)."""
    filters = dict(query.filters)
    filters["type"] = ("practice",)
    return replace(
        query,
        filters=MappingProxyType(filters),
        page=1,
        per_page=per_page,
        with_facets=False,
        with_highlights=False,
    )


def page_ids(query: Query, limit: int | None = None) -> Iterator[int]:
    """Ids of the pages a query finds, in its order, each once, page after page of results."""
    seen: set[int] = set()
    number = 1
    while True:
        results = service.search(replace(query, page=number))
        for hit in results.hits:
            if hit.page_id not in seen:
                seen.add(hit.page_id)
                yield hit.page_id
                if limit is not None and len(seen) >= limit:
                    return
        if not results.hits or number * query.per_page >= results.total:
            return
        number += 1


def load_practices(ids: Iterable[int], chunk: int = LOAD_CHUNK) -> Iterator[PracticePage]:
    """The live, public, unexpired practices among these ids, in the given order."""
    ids = iter(ids)
    now = timezone.now()
    while part := list(islice(ids, chunk)):
        pages = visibility.visible(PracticePage.objects.filter(pk__in=part), now).prefetch_related(
            "industries", "tags"
        )
        found = {p.pk: p for p in pages}
        parents = dict(
            Page.objects.filter(path__in={p.path[: -Page.steplen] for p in found.values()}).values_list(
                "path", "title"
            )
        )
        for pk in part:
            page = found.get(pk)
            if page is not None:
                page.cluster_title = parents.get(page.path[: -Page.steplen], "")
                yield page


def practice_record(page: PracticePage, request=None) -> dict:
    """A practice in the import format, so an export can be imported elsewhere."""
    countries = [str(c) for c in page.countries]
    record = {
        "external_id": page.external_id or f"kb-{page.pk}",
        "title": page.title,
        "summary": page.summary,
        **{name: html_to_text(getattr(page, name)) for name in SECTION_FIELDS},
        "cluster": page.cluster_title,
        "country": countries[0] if countries else "",
        "countries": countries,
        "industries": sorted(i.code for i in page.industries.all()),
        "industries_inferred": page.industries_inferred,
        "tags": sorted((t.name for t in page.tags.all()), key=str.lower),
        "organisation": page.organisation,
        "organisation_type": page.organisation_type,
        "language": page.language,
        "year": page.start_year,
        "link": page.source_link,
        "url": page.get_full_url(request),
    }
    return record


class _Echo:
    def write(self, value):
        return value


# A cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection rule).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, list):
        value = ";".join(value)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    value = "" if value is None else str(value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(records: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for record in records:
        yield writer.writerow([csv_cell(record.get(column)) for column in CSV_COLUMNS])


def jsonl_rows(records: Iterable[dict]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_rows),
    "jsonl": ("application/x-ndjson; charset=utf-8", jsonl_rows),
}


@require_GET
def export(request, fmt: str):
    asked, _notes = parse(request.GET, within=service.within_for(request))
    query, _notes = service.check_filters(practice_query(asked))
    content_type, rows = FORMATS[fmt]
    # A filter none of whose values names anything matches nothing: export nothing, not everything.
    matches_nothing = set(asked.filters) - set(query.filters)
    ids = () if matches_nothing else page_ids(query)
    records = (practice_record(page, request) for page in load_practices(ids))
    response = StreamingHttpResponse(rows(records), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="practices-{stamp}.{fmt}"'
    return response
