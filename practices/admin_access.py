"""What a cluster's editor sees in the admin of other clusters: only what the public sees.

Their own cluster's pages, drafts, documents and images in full; of the rest the visible pages
(``practices.visibility``) with their live titles, never an unpublished draft's title, the
documents and images visible pages show, the tags visible pages carry. Knowledge-base editors
(who may publish) and superusers see everything.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import JsonResponse
from django.urls import reverse

from taggit.models import Tag
from wagtail.admin.views.chooser import ChosenMultipleView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.documents import get_document_model
from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
from wagtail.images import get_image_model
from wagtail.images.api.admin.views import ImagesAdminAPIViewSet
from wagtail.models import Page
from wagtail.permissions import policy_registry

from . import visibility
from .admin_viewer import sees_everything
from .page_policy import page_policy

TAGS_AUTOCOMPLETE_LIMIT = 10


def visible_pages(user, pages):
    """The pages this user may work on, and of the rest what the public sees (and the tree's root)."""
    if sees_everything(user):
        return pages
    editable = page_policy.instances_user_has_any_permission_for(user, ["add", "change"])
    public = visibility.visible(Page.objects.all()).values("pk")
    return pages.filter(Q(depth=1) | Q(pk__in=public) | Q(pk__in=editable.values("pk")))


class VisibleChosenMultipleView(ChosenMultipleView):
    """Wagtail's "chosen" answer for several page ids, limited to the pages the user may see."""

    def get(self, request):
        ids = [pk for pk in request.GET.getlist("id") if pk.isdigit()]
        pages = visible_pages(request.user, Page.objects.filter(pk__in=ids)).specific()
        result = [
            {
                "id": page.pk,
                "parentId": page.get_parent().pk,
                "adminTitle": page.get_admin_display_title(),
                "editUrl": reverse("wagtailadmin_pages:edit", args=(page.pk,)),
                "url": page.url,
            }
            for page in pages
        ]
        return self.render_chosen_response(result)


def tag_autocomplete(request, app_name=None, model_name=None):
    """Wagtail's tag autocomplete, offering only tags visible pages or the user's own pages carry."""
    term = request.GET.get("term", "").replace("\x00", "")
    if not term:
        return JsonResponse([], safe=False)
    tags = Tag.objects.filter(name__istartswith=term)
    if not sees_everything(request.user):
        own = page_policy.instances_user_has_any_permission_for(request.user, ["add", "change"]).values("pk")
        tags = tags.filter(
            Q(pk__in=visibility.visible_tags().values("pk"))
            | Q(practices_practicepagetag_items__content_object__in=own)
            | Q(practices_presentationpagetag_items__content_object__in=own)
        )
    names = tags.order_by("name").values_list("name", flat=True).distinct()[:TAGS_AUTOCOMPLETE_LIMIT]
    return JsonResponse(list(names), safe=False)


class ModeratorsPageTypesUsageView(PageTypesUsageReportView):
    """Counts and latest edits of every cluster's pages, drafts included: for knowledge-base editors."""

    any_permission_required = ["publish"]


def _choosable(model, user, queryset):
    if user.is_superuser:
        return queryset
    policy = policy_registry.get_by_type(model)
    own = policy.instances_user_has_any_permission_for(user, ["choose", "change"]).values("pk")
    if model is get_document_model():
        public = visibility.visible_documents(model.objects.all()).values("pk")
    else:
        public = visibility.visible_images(model.objects.all()).values("pk")
    return queryset.filter(Q(pk__in=own) | Q(pk__in=public))


class ChoosableDocumentsAdminAPIViewSet(DocumentsAdminAPIViewSet):
    def get_queryset(self):
        return _choosable(get_document_model(), self.request.user, super().get_queryset())


class ChoosableImagesAdminAPIViewSet(ImagesAdminAPIViewSet):
    def get_queryset(self):
        return _choosable(get_image_model(), self.request.user, super().get_queryset())
