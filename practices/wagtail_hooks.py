from django.http import Http404
from django.urls import path, reverse
from django.utils.functional import cached_property

from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.pages.bulk_actions import (
    DeleteBulkAction,
    MoveBulkAction,
    PublishBulkAction,
    UnpublishBulkAction,
)
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy

from . import visibility
from .admin_access import (
    ChoosableDocumentsAdminAPIViewSet,
    ChoosableImagesAdminAPIViewSet,
    visible_pages,
)
from .admin_viewer import sees_everything
from .models import PracticePage
from .permissions import PERMISSIONS_CHANGED, PermissionChangeLog, practices_needing_review

page_policy = PagePermissionPolicy()


@hooks.register("register_log_actions")
def register_permission_log_actions(actions):
    actions.register_action(PERMISSIONS_CHANGED, "Change permissions", "Permissions changed")


# Ordered last so it saves after Wagtail's own permission panels.
@hooks.register("register_group_permission_panel", order=1000)
def register_permission_change_log():
    return PermissionChangeLog


@hooks.register("before_serve_page")
def gone_pages_are_not_found(page, request, serve_args, serve_kwargs):
    """A page past its expiry (before publish_scheduled runs) or under an unpublished or expired
    page is not served; view restrictions stay Wagtail's (login, password)."""
    if visibility.is_gone(page):
        raise Http404("No such page")


# The page chooser browses the whole tree; a cluster editor should not read other clusters' draft
# titles there. (The explorer, admin search and reports already limit them to their own cluster.)
@hooks.register("construct_page_chooser_queryset")
def hide_other_clusters_drafts_in_chooser(pages, request):
    return visible_pages(request.user, pages)


class HiddenDraftsLeftOut:
    """Wagtail's bulk-action confirmation names the pages one may not act on; leave out the drafts
    the user may not see, as if their ids were unknown."""

    def get_actionable_objects(self):
        objects, without_access = super().get_actionable_objects()
        refused = without_access.get("items_with_no_access", [])
        if refused:
            shown = set(
                visible_pages(
                    self.request.user, Page.objects.filter(pk__in=[p.pk for p in refused])
                ).values_list("pk", flat=True)
            )
            # Specific, so their admin titles are the live ones for those who may not edit them.
            without_access["items_with_no_access"] = [
                page.specific_deferred for page in refused if page.pk in shown
            ]
        return objects, without_access


# Ordered after Wagtail's own registrations, which these replace.
for _action in (DeleteBulkAction, MoveBulkAction, PublishBulkAction, UnpublishBulkAction):
    hooks.register(
        "register_bulk_action", type(_action.__name__, (HiddenDraftsLeftOut, _action), {}), order=100
    )


# Wagtail checks move rights only when the move is made; its confirmation page would show any page.
@hooks.register("before_move_page")
def check_move_permission(request, page, destination):
    if not page.permissions_for_user(request.user).can_move_to(destination):
        return permission_denied(request)
    return None


# Wagtail's admin API lists every document and image; ordered after Wagtail's, which these replace.
@hooks.register("construct_admin_api", order=100)
def register_choosable_files_admin_api(router):
    router.register_endpoint("documents", ChoosableDocumentsAdminAPIViewSet)
    router.register_endpoint("images", ChoosableImagesAdminAPIViewSet)


@hooks.register("construct_reports_menu")
def hide_page_types_usage_from_cluster_editors(request, menu_items):
    if not sees_everything(request.user):
        menu_items[:] = [item for item in menu_items if item.name != "page-types-usage"]


# The "needs review" report


class NeedsReviewView(ReportView):
    page_title = "Practices needing review"
    header_icon = "time"
    index_url_name = "practices_needs_review"
    index_results_url_name = "practices_needs_review_results"
    model = PracticePage
    any_permission_required = ["add", "change", "publish"]
    paginate_by = 50
    list_export = ["title", "cluster_title", "reviewed_on", "last_reviewed_at", "last_published_at"]
    export_headings = {
        "title": "Practice",
        "cluster_title": "Cluster",
        "reviewed_on": "Reviewed or published on",
        "last_reviewed_at": "Last reviewed",
        "last_published_at": "Last published",
    }

    @cached_property
    def permission_policy(self):
        return page_policy

    @cached_property
    def columns(self):
        return [
            TitleColumn("title", label="Practice", url_name="wagtailadmin_pages:edit"),
            TitleColumn(
                "cluster_title",
                label="Cluster",
                get_url=lambda page: reverse("wagtailadmin_explore", args=[page.cluster_id]),
            ),
            DateColumn("reviewed_on", label="Reviewed or published"),
            Column("last_reviewed_at", label="Last reviewed"),
        ]

    def get_queryset(self):
        allowed = page_policy.instances_user_has_any_permission_for(
            self.request.user, ["add", "change", "publish"]
        )
        return practices_needing_review(PracticePage.objects.filter(pk__in=allowed.values("pk")))


class NeedsReviewMenuItem(MenuItem):
    def is_shown(self, request):
        return page_policy.user_has_any_permission(request.user, ["add", "change", "publish"])


@hooks.register("register_admin_urls")
def register_needs_review_urls():
    return [
        path("reports/needs-review/", NeedsReviewView.as_view(), name="practices_needs_review"),
        path(
            "reports/needs-review/results/",
            NeedsReviewView.as_view(results_only=True),
            name="practices_needs_review_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_needs_review_menu_item():
    return NeedsReviewMenuItem(
        "Practices needing review",
        reverse("practices_needs_review"),
        name="needs-review",
        icon_name="time",
        order=1150,
    )
