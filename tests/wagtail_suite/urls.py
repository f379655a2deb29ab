"""Wagtail's test URLs, and those of ours that our admin hooks link to (the editors' guide)."""

from django.urls import path

from wagtail.test.urls import urlpatterns as wagtail_urlpatterns

from kb.views import editors_guide, editors_guide_image

urlpatterns = [
    path("contribute/guide/", editors_guide, name="editors_guide"),
    path("contribute/guide/img/<str:name>", editors_guide_image, name="editors_guide_image"),
    *wagtail_urlpatterns,
]
