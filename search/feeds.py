"""RSS and Atom feeds of the latest practices, overall or per industry, cluster and tag.

A feed is a saved search (empty words, newest first) run through ``search.service``.
"""

from __future__ import annotations

from types import MappingProxyType

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from practices.links import absolute_url
from practices.models import ClusterPage, Industry
from search import service
from search.export import load_practices, page_ids
from search.query import Query, clean_text

FEED_LENGTH = 30
FILTERS = ("industry", "cluster", "tag")


class PracticesFeed(Feed):
    description_template = None

    def get_object(self, request):
        filters: dict[str, tuple[str, ...]] = {"type": ("practice",)}
        for facet in FILTERS:
            value = clean_text(request.GET.get(facet, ""))[:100]
            if facet == "industry" and value:
                industry = Industry.objects.filter(slug=value).first()
                value = industry.code if industry else value.upper()
            if value:
                filters[facet] = (value,)
        query = Query(
            filters=MappingProxyType(filters),
            sort="newest",
            per_page=FEED_LENGTH,
            within=service.within_for(request),
            with_facets=False,
            with_highlights=False,
        )
        query, notes = service.check_filters(query)
        if notes:
            # A feed of something that does not exist is missing, not the feed of everything.
            raise Http404(" ".join(notes))
        self.request = request
        return {"query": query, "labels": self._labels(query), "request": request}

    @staticmethod
    def _labels(query: Query) -> list[str]:
        labels = []
        for code in query.filters.get("industry", ()):
            industry = Industry.objects.filter(code=code).first()
            labels.append(f"in {industry.name if industry else code}")
        for slug in query.filters.get("cluster", ()):
            cluster = ClusterPage.objects.filter(slug=slug).first()
            labels.append(f"by {cluster.title if cluster else slug}")
        for tag in query.filters.get("tag", ()):
            labels.append(f"tagged {tag}")
        return labels

    def title(self, obj):
        return " ".join(["Latest practices", *obj["labels"]])

    def link(self, obj):
        params = obj["request"].GET.urlencode()
        return absolute_url(
            reverse("search:search") + ("?sort=newest&type=practice&" + params if params else "?sort=newest")
        )

    def feed_url(self, obj):
        return absolute_url(obj["request"].get_full_path())

    def description(self, obj):
        return "The newest good practices published on the Danube ICT Good Practice Knowledge Base."

    def items(self, obj):
        return list(load_practices(page_ids(obj["query"], limit=FEED_LENGTH)))

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return item.get_full_url(self.request)

    def item_guid(self, item):
        return item.get_full_url(self.request)

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_author_name(self, item):
        return item.cluster_title

    def item_categories(self, item):
        return [t.name for t in item.tags.all()]


class PracticesAtomFeed(PracticesFeed):
    feed_type = Atom1Feed
    subtitle = PracticesFeed.description
