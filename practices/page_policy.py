"""Who may work on which page: Wagtail's tree rule, with presentations counted as their cluster's pages.

A cluster's editors hold add and change rights on their ``ClusterPage`` and so on its practices (see
``practices.permissions``). A presentation hangs under the meeting it was given at, not under its
cluster, so it is counted as a page of its *presenting cluster*: whoever may change that cluster's
pages may change it, every colleague alike (not only its owner), and no one else. The meeting itself
stays the knowledge-base editors'; a cluster's editors may only add presentations under a meeting the
public can see.
"""

from __future__ import annotations

from django.db.models import Q

from wagtail.models import Page, PagePermissionTester
from wagtail.permission_policies.pages import PagePermissionPolicy

# Only "change" is lent by the cluster: a presentation has no children to add, and publishing stays
# with those who hold it on the tree.
LENT_ACTIONS = {"change"}


def presenting_cluster(page):
    """The cluster page a stored presentation counts under; None for other pages and new ones.

    Read from the database, not from ``page``: a draft's or a posted form's choice gives no rights."""
    from .models import PresentationPage

    if page.pk is None or not issubclass(page.specific_class or Page, PresentationPage):
        return None
    cluster_id = PresentationPage.objects.filter(pk=page.pk).values("presenting_cluster_id")
    return Page.objects.filter(pk__in=cluster_id).first()


class ClusterPagePermissionPolicy(PagePermissionPolicy):
    """Wagtail's page policy, plus: a presentation may be changed by whoever may change its cluster."""

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if super().user_has_any_permission_for_instance(user, actions, instance):
            return True
        lent = LENT_ACTIONS & set(actions)
        if not lent:
            return False
        cluster = presenting_cluster(instance)
        return cluster is not None and super().user_has_any_permission_for_instance(user, lent, cluster)

    def instances_user_has_any_permission_for(self, user, actions):
        pages = super().instances_user_has_any_permission_for(user, actions)
        lent = LENT_ACTIONS & set(actions)
        if not lent or self._base_queryset_for_user(user) is not None:
            return pages
        from .models import PresentationPage

        clusters = super().instances_user_has_any_permission_for(user, lent).values("pk")
        presented = PresentationPage.objects.filter(presenting_cluster__in=clusters).values("pk")
        return self.model._default_manager.filter(Q(pk__in=pages.values("pk")) | Q(pk__in=presented))


page_policy = ClusterPagePermissionPolicy()


def is_reviewer(user):
    """Knowledge-base editors (and superusers) publish; cluster editors only submit."""
    return user.is_active and (user.is_superuser or page_policy.user_has_permission(user, "publish"))


def own_clusters(user):
    """The clusters whose pages this user may add and edit, for a cluster editor; none for reviewers."""
    from .models import ClusterPage

    if is_reviewer(user):
        return ClusterPage.objects.none()
    editable = page_policy.instances_user_has_permission_for(user, "add")
    return ClusterPage.objects.filter(pk__in=editable.values("pk"), kind=ClusterPage.KIND_CLUSTER).order_by(
        "title"
    )


def meetings_open_to(user):
    """The meetings a cluster's editors may add their presentations to: those the public sees, newest first."""
    from . import visibility
    from .models import EventPage

    if not user.is_active or not own_clusters(user).exists():
        return EventPage.objects.none()
    return visibility.visible(EventPage.objects.all()).order_by("-start_date", "-pk")


class PresentationPermissionTester(PagePermissionTester):
    def __init__(self, user, page):
        super().__init__(user, page)
        if hasattr(self, "permissions") and not LENT_ACTIONS <= self.permissions:
            self.permissions |= {
                action
                for action in LENT_ACTIONS
                if page_policy.user_has_permission_for_instance(user, action, page)
            }


class MeetingPermissionTester(PagePermissionTester):
    def can_add_subpage(self):
        if super().can_add_subpage():
            return True
        from .models import PresentationPage

        return (
            PresentationPage.can_create_at(self.page)
            and meetings_open_to(self.user).filter(pk=self.page.pk).exists()
        )
