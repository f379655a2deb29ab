"""Pages turned into index entries, and whether a page may be indexed at all.

Everything is fetched in bulk per chunk of pages (industries, tags, themes, documents, parents), so
building the whole index costs a fixed number of queries per chunk, never one per page.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from django_countries import countries

from django.db.models import Q
from django.utils import timezone

from wagtail.models import Page, Site

from practices import visibility
from practices.models import (
    ClusterPage,
    DocumentTextUnit,
    EventPage,
    Industry,
    KBDocument,
    PracticeDocument,
    PracticePage,
    PracticePageTag,
    PresentationPage,
    PresentationPageTag,
    ThemeItem,
    ThemePage,
)
from search.engines.base import DocumentPart, Entry
from search.facets import REGISTRY, PageFacts

CHUNK = 1000
STEPLEN = Page.steplen
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


def _ancestor_paths(path: str) -> list[str]:
    return [path[:n] for n in range(STEPLEN, len(path) + 1, STEPLEN)]


@dataclass
class _Sites:
    """Site roots, for "under a Site root" and for page URLs without one lookup per page."""

    roots: list[tuple[str, str, str]]  # (tree path, url_path, root_url)

    @classmethod
    def load(cls) -> _Sites:
        rows = Site.objects.select_related("root_page").order_by("-is_default_site", "pk")
        return cls([(s.root_page.path, s.root_page.url_path, s.root_url) for s in rows])

    def root_for(self, path: str):
        for root in self.roots:
            if path.startswith(root[0]):
                return root
        return None

    def url(self, path: str, url_path: str) -> str:
        root = self.root_for(path)
        if root is None:
            return ""
        relative = "/" + url_path[len(root[1]) :]
        # One site: relative links, as Wagtail gives them; several: absolute, valid from any site.
        return relative if len(self.roots) == 1 else root[2] + relative


def _page_filter(ids: Iterable[int] | None) -> Q:
    return Q() if ids is None else Q(pk__in=list(ids))


class _Context:
    """What every chunk needs once: sites, restrictions, clusters, events, industries, themes."""

    def __init__(self):
        self.sites = _Sites.load()
        now = timezone.now()
        # Parents set to expire later: their children leave search at that moment too.
        expiring = Page.objects.filter(live=True, expire_at__gt=now, numchild__gt=0)
        self.expiring_parents = dict(expiring.values_list("path", "expire_at"))
        self.clusters = {c.path: c for c in ClusterPage.objects.all().only(*_CLUSTER_FIELDS)}
        self.clusters_by_id = {c.pk: c for c in self.clusters.values()}
        self.cluster_urls = {p: self.sites.url(p, c.url_path) for p, c in self.clusters.items()}
        self.events = {e.path: e for e in EventPage.objects.all().only(*_EVENT_FIELDS)}
        self.industries = {i.pk: i for i in Industry.objects.all()}
        self.industry_codes = {i.pk: i.code for i in self.industries.values()}
        section = {i.pk: i for i in self.industries.values()}
        self.sections = {
            i.pk: (i.code if i.level == 1 else section[i.parent_id].code if i.parent_id else i.code)
            for i in self.industries.values()
        }
        themes = visibility.visible(ThemePage.objects.all())
        self.themes: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for item_id, slug, title in ThemeItem.objects.filter(page__in=themes).values_list(
            "item_id", "page__slug", "page__title"
        ):
            self.themes[item_id].append((slug, title))
        self.private_collections = visibility.restricted_collection_ids()

    def expires(self, page):
        """The earliest expiry of the page and its ancestors, or None."""
        dates = [self.expiring_parents.get(p) for p in _ancestor_paths(page.path)[:-1]]
        dates = [d for d in (*dates, page.expire_at) if d is not None]
        return min(dates, default=None)


_CLUSTER_FIELDS = ("id", "path", "title", "slug", "url_path", "country", "live")
_EVENT_FIELDS = ("id", "path", "title", "start_date", "country", "url_path", "live")


def _country_labels(codes: Iterable[str]) -> dict[str, str]:
    return {c: str(countries.name(c) or c) for c in codes if c}


def _through_rows(model, ids: list[int]) -> dict[int, list[int]]:
    """page id -> industry ids, from a ParentalManyToManyField's table in one query."""
    through = model.industries.through
    src = f"{model._meta.model_name}_id"
    out: dict[int, list[int]] = defaultdict(list)
    for pid, iid in through.objects.filter(**{f"{src}__in": ids}).values_list(src, "industry_id"):
        out[pid].append(iid)
    return out


def _tags(tag_model, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    rows = tag_model.objects.filter(content_object_id__in=ids).values_list("content_object_id", "tag__name")
    for pid, name in rows.order_by("tag__name"):
        out[pid].append(name)
    return out


def _documents(page_docs: dict[int, list[int]], ctx: _Context) -> dict[int, list[tuple[KBDocument, list]]]:
    """page id -> [(document, [(number, unit, title, text)])] for public documents with text."""
    doc_ids = {d for docs in page_docs.values() for d in docs}
    if not doc_ids:
        return {}
    docs = {
        d.pk: d
        for d in KBDocument.objects.filter(pk__in=doc_ids)
        if d.collection_id not in ctx.private_collections
    }
    units: dict[int, list] = defaultdict(list)
    rows = DocumentTextUnit.objects.filter(document_id__in=list(docs)).order_by("document_id", "number")
    for row in rows.values_list("document_id", "number", "unit", "title", "text"):
        units[row[0]].append(row[1:])
    return {
        pid: [(docs[d], units[d]) for d in dids if d in docs and units.get(d)]
        for pid, dids in page_docs.items()
    }


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
    def __init__(self, ctx: _Context):
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
        industries = _through_rows(PracticePage, ids)
        tags = _tags(PracticePageTag, ids)
        page_docs: dict[int, list[int]] = defaultdict(list)
        rows = PracticeDocument.objects.filter(page_id__in=ids).order_by("page_id", "sort_order")
        for pid, did in rows.values_list("page_id", "document_id"):
            page_docs[pid].append(did)
        documents = _documents(page_docs, self.ctx)
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
        industries = _through_rows(PresentationPage, ids)
        tags = _tags(PresentationPageTag, ids)
        documents = _documents({p.pk: [p.slides_id] for p in pages if p.slides_id}, self.ctx)
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
    ctx = _Context()
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
