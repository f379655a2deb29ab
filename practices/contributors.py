"""What a cluster's editors see of their own work: drafts, pages in review, pages sent back with comments."""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from wagtail.admin.ui.components import Component
from wagtail.admin.views.home import WorkflowObjectsToModeratePanel
from wagtail.models import Page, WorkflowState

from .models import ClusterPage, PresentationPage
from .page_policy import meetings_open_to, own_clusters

LIST_LENGTH = 10


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
    """The cluster's own pages (its profile and presentations included) by where they stand in review."""
    presented = PresentationPage.objects.filter(presenting_cluster=cluster).values("pk")
    pages = Page.objects.filter(Q(path__startswith=cluster.path) | Q(pk__in=presented))
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


def add_presentation_url(meeting):
    return reverse(
        "wagtailadmin_pages:add", args=("practices", PresentationPage._meta.model_name, meeting.pk)
    )


def presentation_way_in(user):
    """Where "Add presentation" leads: the add form if one meeting is open, else the list; None if none."""
    meetings = list(meetings_open_to(user)[:2])
    if not meetings:
        return None
    if len(meetings) == 1:
        return add_presentation_url(meetings[0])
    return reverse("practices_add_presentation")


def choose_meeting(request):
    """The meetings a cluster's editors may add a presentation to, newest first (one: straight to its form)."""
    if not own_clusters(request.user).exists():
        raise PermissionDenied
    meetings = list(meetings_open_to(request.user))
    if len(meetings) == 1:
        return redirect(add_presentation_url(meetings[0]))
    context = {
        "page_title": "Add presentation: choose the meeting",
        "header_title": "Add presentation: choose the meeting",
        "header_icon": "date",
        "meetings": [(meeting, add_presentation_url(meeting)) for meeting in meetings],
    }
    return TemplateResponse(request, "practices/admin/choose_meeting.html", context)


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
        context["add_presentation_url"] = presentation_way_in(self.user)
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
