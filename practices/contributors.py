"""What a cluster's editors see of their own work: drafts, pages in review, pages sent back with comments."""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse

from wagtail.admin.ui.components import Component
from wagtail.admin.views.home import WorkflowObjectsToModeratePanel
from wagtail.models import Page, WorkflowState
from wagtail.permission_policies.pages import PagePermissionPolicy

from .models import ClusterPage, EventPage, PresentationPage

page_policy = PagePermissionPolicy()
LIST_LENGTH = 10


def is_reviewer(user):
    """Knowledge-base editors (and superusers) publish; cluster editors only submit."""
    return user.is_active and (user.is_superuser or page_policy.user_has_permission(user, "publish"))


def own_clusters(user):
    """The clusters whose pages this user may add and edit, for a cluster editor; none for reviewers."""
    if is_reviewer(user):
        return ClusterPage.objects.none()
    editable = page_policy.instances_user_has_permission_for(user, "add")
    return ClusterPage.objects.filter(pk__in=editable.values("pk"), kind=ClusterPage.KIND_CLUSTER).order_by(
        "title"
    )


def can_add_presentation(user):
    editable = page_policy.instances_user_has_permission_for(user, "add")
    return EventPage.objects.filter(pk__in=editable.values("pk")).exists()


@dataclass
class ClusterWork:
    cluster: ClusterPage
    drafts: list = field(default_factory=list)
    in_review: list = field(default_factory=list)
    changes_requested: list = field(default_factory=list)

    @property
    def add_practice_url(self):
        return reverse("wagtailadmin_pages:add", args=("practices", "practicepage", self.cluster.pk))

    @property
    def edit_profile_url(self):
        return reverse("wagtailadmin_pages:edit", args=(self.cluster.pk,))

    @property
    def explore_url(self):
        return reverse("wagtailadmin_explore", args=(self.cluster.pk,))

    @property
    def is_empty(self):
        return not (self.drafts or self.in_review or self.changes_requested)


def _states(pages):
    return (
        WorkflowState.objects.active()
        .filter(
            base_content_type=ContentType.objects.get_for_model(Page),
            object_id__in=[str(pk) for pk in pages.values_list("pk", flat=True)],
        )
        .select_related("current_task_state", "requested_by")
        .order_by("created_at")
    )


def cluster_work(cluster):
    """The cluster's own pages (its profile included) by where they stand in review."""
    pages = Page.objects.descendant_of(cluster, inclusive=True)
    work = ClusterWork(cluster=cluster)
    by_page = {}
    for state in _states(pages):
        by_page[int(state.object_id)] = state
    titles = {page.pk: page for page in pages.filter(pk__in=by_page).specific()}
    for pk, state in by_page.items():
        page = titles.get(pk)
        if page is None:
            continue
        if state.status == WorkflowState.STATUS_NEEDS_CHANGES:
            task_state = state.current_task_state.specific if state.current_task_state else None
            work.changes_requested.append(
                {
                    "page": page,
                    "comment": task_state.get_comment() if task_state else "",
                    "by": task_state.finished_by if task_state else None,
                    "at": task_state.finished_at if task_state else None,
                }
            )
        else:
            work.in_review.append({"page": page, "since": state.created_at, "by": state.requested_by})
    drafts = (
        pages.filter(Q(live=False) | Q(has_unpublished_changes=True))
        .exclude(pk__in=by_page)
        .order_by("-latest_revision_created_at")
        .specific()[:LIST_LENGTH]
    )
    work.drafts = [{"page": page, "saved": page.latest_revision_created_at} for page in drafts]
    return work


def add_presentation_url():
    return reverse("wagtailadmin_pages:choose_parent", args=("practices", PresentationPage._meta.model_name))


class YourClusterPanel(Component):
    """The cluster editor's dashboard: the way in to writing, and what stands where in review."""

    name = "your_cluster"
    template_name = "practices/admin/your_cluster.html"
    order = 50

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["clusters"] = [cluster_work(cluster) for cluster in own_clusters(self.user)]
        context["add_presentation_url"] = add_presentation_url() if can_add_presentation(self.user) else None
        return context


class AwaitingReviewPanel(WorkflowObjectsToModeratePanel):
    """Wagtail's "Awaiting your review", oldest submission first, so nothing waits at the bottom."""

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["states"] = sorted(context["states"], key=lambda state: state["task_state"].started_at)
        return context


def construct_homepage_panels(request, panels):
    for i, panel in enumerate(panels):
        if type(panel) is WorkflowObjectsToModeratePanel:
            panels[i] = AwaitingReviewPanel()
    if own_clusters(request.user).exists():
        panels.insert(0, YourClusterPanel(request.user))
