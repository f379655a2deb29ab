"""Wagtail's API v2, read-only: live public pages, and the documents and images they show.

The fields each page type exposes are declared here rather than on the models, so the published
shape of the API is visible in one place.
"""

from __future__ import annotations

import re

from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from wagtail.api import APIField
from wagtail.api.v2.filters import SearchFilter
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page
from wagtail.search.backends import get_search_backend
from wagtail.search.backends.base import FilterFieldError, OrderByFieldError

from practices import visibility
from practices.models import (
    ClusterPage,
    EventPage,
    PracticePage,
    PresentationPage,
)
from search.query import parse_terms


class IndustriesField(serializers.Field):
    def to_representation(self, manager):
        return [
            {"code": i.code, "name": i.name, "level": "section" if i.level == 1 else "division"}
            for i in manager.all()
        ]


class CountriesField(serializers.Field):
    def to_representation(self, value):
        if hasattr(value, "code"):
            value = [value] if value.code else []
        return [{"code": str(c.code), "name": str(c.name)} for c in value]


class PageRefField(serializers.Field):
    def to_representation(self, page):
        if page is None:
            return None
        return {"id": page.pk, "title": page.title, "slug": page.slug}


class ParentClusterField(serializers.Field):
    """A practice's publisher: the cluster (or source platform) page it sits under."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, page):
        parent = page.get_parent().specific_deferred
        return {"id": parent.pk, "title": parent.title, "slug": parent.slug, "kind": parent.kind}


PAGE_FIELDS = {
    PracticePage: [
        APIField("summary"),
        APIField("cluster", serializer=ParentClusterField(read_only=True)),
        APIField("industries", serializer=IndustriesField(read_only=True)),
        APIField("industries_inferred"),
        APIField("countries", serializer=CountriesField(read_only=True)),
        APIField("tags"),
        *(APIField(name) for name, _label in PracticePage.SECTIONS),
        APIField("start_year"),
        APIField("ongoing"),
        APIField("organisation"),
        APIField("organisation_type"),
        APIField("language"),
        APIField("source_link"),
        APIField("external_id"),
    ],
    PresentationPage: [
        APIField("presenter"),
        APIField("presenter_role"),
        APIField("presenting_cluster", serializer=PageRefField(read_only=True)),
        APIField("industries", serializer=IndustriesField(read_only=True)),
        APIField("tags"),
        APIField("abstract"),
        APIField("slides"),
    ],
    ClusterPage: [
        APIField("kind"),
        APIField("is_example"),
        APIField("country", serializer=CountriesField(read_only=True)),
        APIField("city"),
        APIField("website"),
        APIField("description"),
        APIField("logo"),
    ],
    EventPage: [
        APIField("start_date"),
        APIField("end_date"),
        APIField("venue"),
        APIField("city"),
        APIField("country", serializer=CountriesField(read_only=True)),
        APIField("organiser"),
        APIField("participants"),
        APIField("summary"),
        APIField("description"),
        APIField("is_example"),
    ],
}


MAX_INTEGER = 2**31 - 1
MAX_TAGS = 10
_INTEGER = re.compile(r"-?\d+")


class CheckedParameters:
    """Bad parameters answer 400 with a message before any query runs: null characters (PostgreSQL
    refuses them), integers past what the databases hold, more tags than a join can take."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for name, values in request.GET.lists():
            for value in values:
                if "\x00" in value or "\x00" in name:
                    raise BadRequestError(f"null characters are not allowed in {name!r}")
                if name != "search" and _INTEGER.fullmatch(value.strip()) and abs(int(value)) > MAX_INTEGER:
                    raise BadRequestError(f"{name} must be at most {MAX_INTEGER}")
        if len(request.GET.get("tags", "").split(",")) > MAX_TAGS:
            raise BadRequestError(f"at most {MAX_TAGS} tags can be combined")


class PublicSearchFilter(BaseFilterBackend):
    """Wagtail's ``?search=`` (with ``search_operator=and|or``, ranked unless ``order`` is given)
    answered from what the public sees: pages from our index and their live titles, never a draft's
    title; documents and images by their words, whatever quotes or spaces the text holds."""

    def filter_queryset(self, request, queryset, view):
        if "search" not in request.GET:
            return queryset
        if getattr(queryset, "_filtered_by_tag", False):
            raise BadRequestError("filtering by tag with a search query is not supported")
        operator = (request.GET.get("search_operator") or "and").lower()
        if operator not in ("and", "or"):
            raise BadRequestError("search_operator must be 'and' or 'or'")
        terms = [t for t in parse_terms(request.GET["search"]) if not t.negated]
        if not terms:
            return queryset.none()
        order_by_relevance = "order" not in request.GET
        backend = get_search_backend()
        try:
            if issubclass(queryset.model, Page):
                return backend.public_search(request.GET["search"], queryset, operator, order_by_relevance)
            words = " ".join(t.text for t in terms)
            return backend.search(words, queryset, operator=operator, order_by_relevance=order_by_relevance)
        # Wagtail's own answers (its SearchFilter's) to a field the search cannot filter or order by.
        except FilterFieldError as e:
            raise BadRequestError(
                f"cannot filter by '{e.field_name}' while searching (field is not indexed)"
            ) from e
        except OrderByFieldError as e:
            raise BadRequestError(
                f"cannot order by '{e.field_name}' while searching (field is not indexed)"
            ) from e


def _with_public_search(filter_backends):
    return [PublicSearchFilter if f is SearchFilter else f for f in filter_backends]


class KBPagesAPIViewSet(CheckedParameters, PagesAPIViewSet):
    filter_backends = _with_public_search(PagesAPIViewSet.filter_backends)

    @classmethod
    def get_body_fields(cls, model):
        return cls._convert_api_fields(cls.body_fields + list(PAGE_FIELDS.get(model, ())))

    def get_queryset(self):
        return visibility.visible(super().get_queryset())


class KBDocumentsAPIViewSet(CheckedParameters, DocumentsAPIViewSet):
    """Only documents that a live, public page shows: a practice's attachment or a presentation's slides."""

    filter_backends = _with_public_search(DocumentsAPIViewSet.filter_backends)

    def get_queryset(self):
        return visibility.visible_documents(super().get_queryset())


class KBImagesAPIViewSet(CheckedParameters, ImagesAPIViewSet):
    """Only images that a live, public page shows (a cluster's logo), never private collections."""

    filter_backends = _with_public_search(ImagesAPIViewSet.filter_backends)

    def get_queryset(self):
        return visibility.visible_images(super().get_queryset())


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", KBPagesAPIViewSet)
api_router.register_endpoint("documents", KBDocumentsAPIViewSet)
api_router.register_endpoint("images", KBImagesAPIViewSet)
