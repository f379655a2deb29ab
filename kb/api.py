"""Wagtail's API v2, read-only: live public pages, and the documents and images they show.

The fields each page type exposes are declared here rather than on the models, so the published
shape of the API is visible in one place.
"""

from __future__ import annotations

from rest_framework import serializers

from wagtail.api import APIField
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet

from practices import visibility
from practices.models import (
    ClusterPage,
    EventPage,
    PracticePage,
    PresentationPage,
)


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


class KBPagesAPIViewSet(PagesAPIViewSet):
    @classmethod
    def get_body_fields(cls, model):
        return cls._convert_api_fields(cls.body_fields + list(PAGE_FIELDS.get(model, ())))

    def get_queryset(self):
        return visibility.visible(super().get_queryset())


class KBDocumentsAPIViewSet(DocumentsAPIViewSet):
    """Only documents that a live, public page shows: a practice's attachment or a presentation's slides."""

    def get_queryset(self):
        return visibility.visible_documents(super().get_queryset())


class KBImagesAPIViewSet(ImagesAPIViewSet):
    """Only images that a live, public page shows (a cluster's logo), never private collections."""

    def get_queryset(self):
        return visibility.visible_images(super().get_queryset())


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", KBPagesAPIViewSet)
api_router.register_endpoint("documents", KBDocumentsAPIViewSet)
api_router.register_endpoint("images", KBImagesAPIViewSet)
