"""RSS and Atom feeds of the newest practices any search finds: its words and every filter.

A feed is a saved search (newest first) run through ``search.service``, like the export.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from practices.links import absolute_url
from search import service
from search.export import load_practices, page_ids, practice_query
from search.facets import BY_NAME
from search.query import Query, parse, to_params

FEED_LENGTH = 30


def feed_query(params, within: tuple[str, ...] = ()) -> tuple[Query, list[str]]:
    """The search's query as a feed asks it: practices only, newest first, no facets or highlights."""
    query, _notes = parse(params, within=within)
    query = replace(practice_query(query, per_page=FEED_LENGTH), sort="newest")
    return service.check_filters(query)


def describe(query: Query) -> list[str]:
    """The search in words, for a feed's title: 'matching "waste"', 'in Manufacturing', 'from Serbia'."""
    parts = [f"matching “{query.text}”"] if query.text else []
    for name, values in query.filters.items():
        if name == "type":
            continue
        facet = BY_NAME[name]
        labels = facet.lookup(values)
        parts += [facet.phrase.format(label=labels.get(v, (v, v))[1]) for v in values]
    return parts


class PracticesFeed(Feed):
    description_template = None

    def get_object(self, request):
        query, notes = feed_query(request.GET, within=service.within_for(request))
        if notes:
            # A feed of something that does not exist is missing, not the feed of everything.
            raise Http404(" ".join(notes))
        self.request = request
        return {"query": query, "labels": describe(query), "request": request}

    def title(self, obj):
        return " ".join(["Latest practices", *obj["labels"]])

    def link(self, obj):
        params = urlencode(to_params(obj["query"]))
        return absolute_url(reverse("search:search") + "?" + params, obj["request"])

    def feed_url(self, obj):
        # The self link keeps the search's words and filters (without the implied type and sort).
        params = urlencode(to_params(obj["query"], filters=_shown_filters(obj["query"]), sort="relevance"))
        path = obj["request"].path + ("?" + params if params else "")
        return absolute_url(path, obj["request"])

    def description(self, obj):
        return "The newest good practices published on the Danube ICT Good Practice Knowledge Base."

    def items(self, obj):
        return list(load_practices(page_ids(obj["query"], limit=FEED_LENGTH)))

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return absolute_url(item.get_url(self.request), self.request)

    def item_guid(self, item):
        # The practice's own address: the same in every feed and on every fetch.
        return absolute_url(item.get_url(self.request), self.request)

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_author_name(self, item):
        return item.cluster_title

    def item_categories(self, item):
        return [t.name for t in item.tags.all()]


def _shown_filters(query: Query) -> dict[str, tuple[str, ...]]:
    return {k: v for k, v in query.filters.items() if k != "type"}


class PracticesAtomFeed(PracticesFeed):
    feed_type = Atom1Feed
    subtitle = PracticesFeed.description
