"""Pages turned into index entries, and whether a page may be indexed at all.

Everything is fetched in bulk per chunk of pages (industries, tags, themes, documents, parents: see
``search.page_data``), so building the whole index costs a fixed number of queries per chunk, never
one per page.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace

from django_countries import countries

from django.db.models import Q

from practices import visibility
from practices.models import (
    ClusterPage,
    EventPage,
    PracticeDocument,
    PracticePage,
    PracticePageTag,
    PresentationPage,
    PresentationPageTag,
)
from search.engines.base import DocumentPart, Entry
from search.facets import REGISTRY, PageFacts
from search.page_data import STEPLEN, IndexContext, documents_by_page, industry_ids_by_page, tags_by_page

CHUNK = 1000
# The page models whose pages become entries, with the entry type each gives (``query.ENTRY_TYPES``).
INDEXED_MODELS = {PracticePage: "practice", PresentationPage: "presentation", EventPage: "event"}

_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|li|h\d|br|div|tr|ul|ol|blockquote)\b[^>]*>", re.I)


def strip_html(value: str) -> str:
    if not value:
        return ""
    text = _TAG.sub("", _BLOCK.sub(" ", value))
    return " ".join(html.unescape(text).split())


def document_name(document) -> str:
    """The document as people named it ("Cluj IT Cluster - Agritech.pptx"), not as stored."""
    ext = "." + document.file_extension if document.file_extension else ""
    title = (document.title or "").strip()
    if not title:
        return document.filename
    return title if title.lower().endswith(ext.lower()) else title + ext


def _page_filter(ids: Iterable[int] | None) -> Q:
    return Q() if ids is None else Q(pk__in=list(ids))


def _country_labels(codes: Iterable[str]) -> dict[str, str]:
    return {c: str(countries.name(c) or c) for c in codes if c}


def _facets_and_labels(facts: PageFacts) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """Each facet's values for the page, and the labels of the labelled facets' values."""
    facets: dict[str, tuple[str, ...]] = {}
    labels: dict[str, dict[str, str]] = {}
    for facet in REGISTRY:
        values = facet.from_page(facts)
        if values:
            facets[facet.name] = tuple(values)
            if facet.labelled:
                labels[facet.name] = dict(values)
    return facets, labels


def _document_entries(entry: Entry, documents) -> Iterator[Entry]:
    """An entry for each page or slide of the page's documents: the page's entry (its facets, names,
    dates) with the part's own title, text and link (PDFs open at the page)."""
    for document, units in documents:
        is_pdf = (document.content_kind or document.file_extension.lower()) == "pdf"
        name = document_name(document)
        for number, unit, unit_title, text in units:
            part = DocumentPart(
                document_id=document.pk,
                filename=document.filename,
                page=number,
                unit=unit,
                url=document.url + (f"#page={number}" if is_pdf else ""),
            )
            yield replace(
                entry,
                key=f"doc:{entry.page_id}:{document.pk}:{number}",
                title=f"{unit.title()} {number} of {name}",
                url=part.url,
                summary=unit_title,
                body=text,
                display={
                    **entry.display,
                    "page_title": entry.title,
                    "page_url": entry.url,
                    "part_title": unit_title,
                    "summary": "",
                },
                document=part,
            )


class _Builder:
    def __init__(self, ctx: IndexContext):
        self.ctx = ctx

    def _industry_facets(self, iids: list[int]) -> tuple[tuple[str, ...], dict[str, str], list[str]]:
        ctx = self.ctx
        codes: list[str] = []
        for iid in iids:
            for code in (ctx.industry_codes[iid], ctx.sections[iid]):
                if code not in codes:
                    codes.append(code)
        by_code = {i.code: i.name for i in ctx.industries.values() if i.code in codes}
        own = [ctx.industries[i].name for i in iids]
        return tuple(codes), by_code, own

    def _entries(
        self,
        page,
        type_: str,
        *,
        summary: str,
        body: str,
        tags: list[str],
        cluster: ClusterPage | None,
        country_codes: list[str],
        iids: list[int],
        year: int | None,
        organisation: str = "",
        documents=(),
    ) -> list[Entry]:
        """The page's entry, then one for each page or slide of its public documents."""
        ctx = self.ctx
        industry_codes, industry_labels, industry_names = self._industry_facets(iids)
        countries_ = _country_labels(country_codes)
        facts = PageFacts(
            type=type_,
            industries={code: industry_labels.get(code, code) for code in industry_codes},
            cluster={cluster.slug: cluster.title} if cluster is not None else {},
            countries=countries_,
            year=year,
            tags=tuple(tags),
            themes=dict(ctx.themes.get(page.pk, [])),
        )
        facets, labels = _facets_and_labels(facts)
        names = " ".join(
            filter(
                None, [cluster.title if cluster else "", *industry_names, *countries_.values(), organisation]
            )
        )
        entry = Entry(
            key=f"page:{page.pk}",
            page_id=page.pk,
            type=type_,
            title=page.title,
            url=ctx.sites.url(page.path, page.url_path),
            path=page.path,
            summary=summary,
            body=body,
            tags=tuple(tags),
            names=names,
            facets=facets,
            date=page.first_published_at,
            expires=ctx.expires(page),
            display=self._display(
                page, cluster, iids, industry_names, countries_, organisation, year, summary
            ),
            labels=labels,
        )
        return [entry, *_document_entries(entry, documents)]

    def _display(self, page, cluster, iids, industry_names, countries_, organisation, year, summary) -> dict:
        """What a hit shows beside its title, never searched."""
        added = page.first_published_at
        return {
            "cluster": cluster.title if cluster else "",
            "cluster_url": self.ctx.cluster_urls.get(cluster.path, "") if cluster else "",
            "industries": [self.ctx.industry_codes[i] for i in iids],
            "industry_names": industry_names,
            "countries": list(countries_.values()),
            "organisation": organisation,
            "year": year,
            "added": added.date().isoformat() if added else None,
            "summary": summary[:300],
        }

    def practices(self, pages: list[PracticePage]) -> list[Entry]:
        ids = [p.pk for p in pages]
        industries = industry_ids_by_page(PracticePage, ids)
        tags = tags_by_page(PracticePageTag, ids)
        page_docs: dict[int, list[int]] = defaultdict(list)
        rows = PracticeDocument.objects.filter(page_id__in=ids).order_by("page_id", "sort_order")
        for pid, did in rows.values_list("page_id", "document_id"):
            page_docs[pid].append(did)
        documents = documents_by_page(page_docs, self.ctx)
        out = []
        for p in pages:
            body = " ".join(filter(None, (strip_html(getattr(p, name)) for name, _ in PracticePage.SECTIONS)))
            out += self._entries(
                p,
                "practice",
                summary=p.summary,
                body=body,
                tags=tags.get(p.pk, []),
                cluster=self.ctx.clusters.get(p.path[:-STEPLEN]),
                country_codes=[c.code for c in p.countries],
                iids=industries.get(p.pk, []),
                year=p.start_year,
                organisation=p.organisation,
                documents=documents.get(p.pk, ()),
            )
        return out

    def presentations(self, pages: list[PresentationPage]) -> list[Entry]:
        ids = [p.pk for p in pages]
        industries = industry_ids_by_page(PresentationPage, ids)
        tags = tags_by_page(PresentationPageTag, ids)
        documents = documents_by_page({p.pk: [p.slides_id] for p in pages if p.slides_id}, self.ctx)
        out = []
        for p in pages:
            event = self.ctx.events.get(p.path[:-STEPLEN])
            cluster = self.ctx.clusters_by_id.get(p.presenting_cluster_id)
            country = (cluster.country.code if cluster and cluster.country else "") or (
                event.country.code if event and event.country else ""
            )
            out += self._entries(
                p,
                "presentation",
                summary=strip_html(p.abstract)[:500],
                body=" ".join(filter(None, [strip_html(p.abstract), p.presenter, p.presenter_role])),
                tags=tags.get(p.pk, []),
                cluster=cluster,
                country_codes=[country] if country else [],
                iids=industries.get(p.pk, []),
                year=event.year if event else None,
                organisation=event.title if event else "",
                documents=documents.get(p.pk, ()),
            )
        return out

    def events(self, pages: list[EventPage]) -> list[Entry]:
        out = []
        for p in pages:
            body = " ".join(filter(None, [strip_html(p.description), p.venue, p.city, p.organiser]))
            out += self._entries(
                p,
                "event",
                summary=p.summary,
                body=body,
                tags=[],
                cluster=None,
                country_codes=[p.country.code] if p.country else [],
                iids=[],
                year=p.year,
                organisation=p.organiser,
            )
        return out


def _chunks(queryset, size: int = CHUNK) -> Iterator[list]:
    """Keyset pagination by pk: constant memory and constant query count per chunk."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def _candidates(model, ids):
    return visibility.visible(model.objects.filter(_page_filter(ids)))


def iter_entries(page_ids: Iterable[int] | None = None, chunk: int = CHUNK) -> Iterator[Entry]:
    """Entries of every indexable page (or of those among ``page_ids``), chunk by chunk."""
    ids = None if page_ids is None else sorted({int(i) for i in page_ids})
    ctx = IndexContext()
    builder = _Builder(ctx)
    for model, build in (
        (PracticePage, builder.practices),
        (PresentationPage, builder.presentations),
        (EventPage, builder.events),
    ):
        for pages in _chunks(_candidates(model, ids), chunk):
            yield from build(pages)


def all_entries() -> Iterator[Entry]:
    return iter_entries()


def indexable_ids(page_ids: Iterable[int]) -> set[int]:
    """Which of these pages may be indexed now (what the signals compare against)."""
    return {e.page_id for e in iter_entries(page_ids) if e.document is None}
