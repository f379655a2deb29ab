"""What index entries are built from, fetched in bulk: site roots, expiring parents, clusters, events,
industries, themes and private collections once per build; industries, tags and documents once per
chunk of pages. Never one query per page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from wagtail.models import Page, Site

from practices import visibility
from practices.models import (
    ClusterPage,
    DocumentTextUnit,
    EventPage,
    Industry,
    KBDocument,
    ThemeItem,
    ThemePage,
)

STEPLEN = Page.steplen


def _ancestor_paths(path: str) -> list[str]:
    return [path[:n] for n in range(STEPLEN, len(path) + 1, STEPLEN)]


@dataclass
class Sites:
    """Site roots, for "under a Site root" and for page URLs without one lookup per page."""

    roots: list[tuple[str, str, str]]  # (tree path, url_path, root_url)

    @classmethod
    def load(cls) -> Sites:
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


class IndexContext:
    """What every chunk needs once: sites, restrictions, clusters, events, industries, themes."""

    def __init__(self):
        self.sites = Sites.load()
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


def industry_ids_by_page(model, ids: list[int]) -> dict[int, list[int]]:
    """page id -> industry ids, from a ParentalManyToManyField's table in one query."""
    through = model.industries.through
    src = f"{model._meta.model_name}_id"
    out: dict[int, list[int]] = defaultdict(list)
    for pid, iid in through.objects.filter(**{f"{src}__in": ids}).values_list(src, "industry_id"):
        out[pid].append(iid)
    return out


def tags_by_page(tag_model, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    rows = tag_model.objects.filter(content_object_id__in=ids).values_list("content_object_id", "tag__name")
    for pid, name in rows.order_by("tag__name"):
        out[pid].append(name)
    return out


def documents_by_page(
    page_docs: dict[int, list[int]], ctx: IndexContext
) -> dict[int, list[tuple[KBDocument, list]]]:
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
