from django.conf import settings
from django.urls import include, path, re_path

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.auth import require_admin_access
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from kb.api import api_router
from kb.signin import set_password
from kb.views import (
    VisibleSitemap,
    contact_publisher,
    contribute,
    document_preview,
    editors_guide,
    editors_guide_image,
    media,
    robots_txt,
    serve_document,
)
from practices.admin_access import (
    ModeratorsPageTypesUsageView,
    VisibleChosenMultipleView,
    tag_autocomplete,
)
from search.export import export
from search.feeds import PracticesAtomFeed, PracticesFeed

# Wagtail admin views that would show a cluster's editor other clusters' drafts, replaced.
admin_overrides = [
    path("choose-page/chosen-multiple/", VisibleChosenMultipleView.as_view()),
    path("tag-autocomplete/", tag_autocomplete),
    path("tag-autocomplete/<slug:app_name>/<slug:model_name>/", tag_autocomplete),
    path("reports/page-types-usage/", ModeratorsPageTypesUsageView.as_view()),
    path("reports/page-types-usage/results/", ModeratorsPageTypesUsageView.as_view(results_only=True)),
]

urlpatterns = [
    *(path("admin/" + str(p.pattern), require_admin_access(p.callback)) for p in admin_overrides),
    # Wagtail's set-password view, throttled like the login (django-axes).
    path("admin/password_reset/confirm/<uidb64>/<token>/", set_password),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/<int:document_id>/preview/", document_preview, name="document_preview"),
    path("documents/<int:document_id>/<str:document_filename>", serve_document),
    path("documents/", include(wagtaildocs_urls)),
    path("practices/<int:page_id>/contact/", contact_publisher, name="contact_publisher"),
    path("", include("search.urls")),
    path("api/v2/", api_router.urls),
    path("feeds/practices/rss/", PracticesFeed(), name="feed_rss"),
    path("feeds/practices/atom/", PracticesAtomFeed(), name="feed_atom"),
    re_path(r"^export/practices\.(?P<fmt>csv|jsonl)$", export, name="export"),
    path("sitemap.xml", sitemap, {"sitemaps": {"wagtail": VisibleSitemap}}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("contribute/", contribute, name="contribute"),
    path("contribute/guide/", editors_guide, name="editors_guide"),
    path("contribute/guide/img/<str:name>", editors_guide_image, name="editors_guide_image"),
]

if settings.MEDIA_URL == "/media/":
    # Served by the site itself, with checks, whatever DEBUG says (see kb.views.media).
    urlpatterns += [re_path(r"^media/(?P<path>.+)$", media, name="media")]

urlpatterns += [path("", include(wagtail_urls))]
