from django.http import Http404
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.pages.bulk_actions import (
    DeleteBulkAction,
    MoveBulkAction,
    PublishBulkAction,
    UnpublishBulkAction,
)
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.models import Page
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import contributors, review, visibility
from .admin_access import (
    ChoosableDocumentsAdminAPIViewSet,
    ChoosableImagesAdminAPIViewSet,
    visible_pages,
)
from .admin_viewer import sees_everything
from .audit import PERMISSIONS_CHANGED, PermissionChangeLog
from .models import ContactMessage, PracticePage
from .page_policy import page_policy
from .permissions import contact_messages_for
from .review import practices_needing_review


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
        path("pages/<int:page_id>/withdraw-review/", review.withdraw, name="practices_withdraw_review"),
        path("presentations/add/", contributors.choose_meeting, name="practices_add_presentation"),
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


# Cluster editors' way in: the dashboard's "Your cluster", reviews oldest first, the admin's own CSS.

hooks.register("construct_homepage_panels", contributors.construct_homepage_panels)
hooks.register("before_edit_page", review.read_only_while_in_review)
hooks.register("after_edit_page", review.say_published)


@hooks.register("insert_global_admin_js")
def kb_admin_js():
    return format_html('<script src="{}" defer></script>', static("js/kb-admin.js"))


@hooks.register("insert_global_admin_css")
def kb_admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/kb-admin.css"))


class ContactMessagePolicy(ModelPermissionPolicy):
    """Messages are a record: read in the admin, never added, edited or deleted there."""

    def user_has_permission(self, user, action):
        if action != "view":
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(ContactMessage, ContactMessagePolicy(ContactMessage))


class ContactMessageIndexView(generic.IndexView):
    def get_base_queryset(self):
        return contact_messages_for(self.request.user)


class ContactMessageInspectView(generic.InspectView):
    def get_object(self, queryset=None):
        # Another cluster's message is as unknown as a missing one.
        return get_object_or_404(contact_messages_for(self.request.user), pk=self.pk)


class ContactMessageViewSet(ModelViewSet):
    model = ContactMessage
    icon = "mail"
    menu_label = "Messages to publishers"
    menu_order = 350
    add_to_admin_menu = True
    index_view_class = ContactMessageIndexView
    inspect_view_class = ContactMessageInspectView
    inspect_view_enabled = True
    list_display = ["name", "email", "page", "relayed_to", "created_at", "sent"]
    list_filter = ["sent", "relayed_to"]
    inspect_view_fields = ["page", "name", "email", "message", "relayed_to", "created_at", "sent"]
    form_fields = [
        "name",
        "email",
        "message",
    ]  # required by ModelViewSet; no create or edit view is reachable


@hooks.register("register_admin_viewset")
def register_contact_messages():
    return ContactMessageViewSet("contact_messages")


@hooks.register("register_help_menu_item")
def register_editors_guide_menu_item():
    return MenuItem(
        "Editors' guide: publishing a practice", reverse("editors_guide"), icon_name="help", order=100
    )
