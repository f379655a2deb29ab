"""Publishing roles: the knowledge-base editors, one group and collection per cluster, the review workflow.

Everything here is expressed in Wagtail's own permission records (GroupPagePermission,
GroupCollectionPermission, a GroupApprovalTask workflow), so the admin enforces it in every view.
"""

import calendar
import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import DateField, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce, Length, Substr
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.utils import timezone

from wagtail.log_actions import log
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    PageLogEntry,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)
from wagtail.signals import page_published

from .models import ClusterIndexPage, ClusterPage, EventIndexPage, PracticePage

MODERATORS = "Knowledge-base editors"
WORKFLOW = "Review by knowledge-base editors"
APPROVAL_TASK = "Approval by a knowledge-base editor"
CLUSTER_GROUP_PREFIX = "Cluster editors: "
PERMISSIONS_CHANGED = "practices.permissions_changed"

# No publish: a cluster's work reaches the public only through the review workflow.
CLUSTER_PAGE_PERMISSIONS = ["add_page", "change_page"]
MODERATOR_PAGE_PERMISSIONS = [
    "add_page",
    "change_page",
    "publish_page",
    "bulk_delete_page",
    "lock_page",
    "unlock_page",
]
CLUSTER_COLLECTION_PERMISSIONS = [
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
]
MODERATOR_COLLECTION_PERMISSIONS = CLUSTER_COLLECTION_PERMISSIONS + [
    ("wagtaildocs", "delete_document"),
    ("wagtailimages", "delete_image"),
]
# NACE codes are fixed by migration: editors may correct names, not add or remove sections.
MODERATOR_MODEL_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("practices", "change_industry"),
    ("practices", "add_network"),
    ("practices", "change_network"),
    ("practices", "delete_network"),
    ("practices", "add_project"),
    ("practices", "change_project"),
    ("practices", "delete_project"),
    ("practices", "change_contributesettings"),
    ("practices", "curate"),
    ("wagtailsearchpromotions", "add_searchpromotion"),
    ("wagtailsearchpromotions", "change_searchpromotion"),
    ("wagtailsearchpromotions", "delete_searchpromotion"),
    ("practices", "view_contactmessage"),
]
# Members' messages to a practice's contact: each editor sees those about pages they may edit.
CLUSTER_MODEL_PERMISSIONS = [("wagtailadmin", "access_admin"), ("practices", "view_contactmessage")]


def _permissions(pairs):
    query = Q(pk__in=[])
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(pairs):
        missing = set(pairs) - {(p.content_type.app_label, p.codename) for p in found}
        raise LookupError(f"Permissions missing (run migrate first): {sorted(missing)}")
    return found


def _page_permissions(codenames):
    return _permissions([("wagtailcore", codename) for codename in codenames])


def _grant_pages(group, page, codenames):
    for permission in _page_permissions(codenames):
        GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


def _grant_collection(group, collection, pairs):
    for permission in _permissions(pairs):
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=permission
        )


# Groups and collections


def cluster_group(cluster):
    """The cluster's editors group: the prefixed group holding page permissions on exactly this page."""
    return (
        Group.objects.filter(name__startswith=CLUSTER_GROUP_PREFIX, page_permissions__page=cluster)
        .distinct()
        .order_by("pk")
        .first()
    )


def cluster_collection(cluster):
    group = cluster_group(cluster)
    if group is None:
        return None
    return (
        Collection.objects.filter(group_permissions__group=group)
        .exclude(depth=1)
        .distinct()
        .order_by("pk")
        .first()
    )


def _group_name(cluster, group=None):
    name = f"{CLUSTER_GROUP_PREFIX}{cluster.title}"[:150]
    taken = Group.objects.filter(name=name)
    if group is not None:
        taken = taken.exclude(pk=group.pk)
    if taken.exists():
        suffix = f" ({cluster.pk})"
        name = name[: 150 - len(suffix)] + suffix
    return name


@transaction.atomic
def ensure_cluster_roles(cluster):
    """Create (or bring up to date) the cluster's group, its page permissions and its collection."""
    group = cluster_group(cluster)
    if group is None:
        group = Group.objects.create(name=_group_name(cluster))
        log(group, "wagtail.create")
    elif group.name != _group_name(cluster, group):
        group.name = _group_name(cluster, group)
        group.save(update_fields=["name"])
    before = permission_snapshot(group)
    group.permissions.add(*_permissions(CLUSTER_MODEL_PERMISSIONS))
    _grant_pages(group, cluster, CLUSTER_PAGE_PERMISSIONS)

    collection = cluster_collection(cluster)
    if collection is None:
        collection = Collection.get_first_root_node().add_child(name=cluster.title[:255])
    elif collection.name != cluster.title[:255]:
        collection.name = cluster.title[:255]
        collection.save(update_fields=["name"])
    _grant_collection(group, collection, CLUSTER_COLLECTION_PERMISSIONS)
    log_permission_change(group, before, permission_snapshot(group))
    return group, collection


@transaction.atomic
def ensure_moderators():
    group, created = Group.objects.get_or_create(name=MODERATORS)
    if created:
        log(group, "wagtail.create")
    before = permission_snapshot(group)
    group.permissions.add(*_permissions(MODERATOR_MODEL_PERMISSIONS))
    _grant_pages(group, Page.get_first_root_node(), MODERATOR_PAGE_PERMISSIONS)
    _grant_collection(group, Collection.get_first_root_node(), MODERATOR_COLLECTION_PERMISSIONS)
    log_permission_change(group, before, permission_snapshot(group))
    return group


@transaction.atomic
def ensure_workflow(moderators):
    """The review workflow, on every cluster index and meetings index: each cluster's pages and
    presentations go through it."""
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW, defaults={"active": True})
    if not workflow.active:
        workflow.active = True
        workflow.save(update_fields=["active"])
    task = GroupApprovalTask.objects.filter(name=APPROVAL_TASK).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=APPROVAL_TASK)
    task.groups.add(moderators)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for index in [*ClusterIndexPage.objects.all(), *EventIndexPage.objects.all()]:
        WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    return workflow


def setup_roles():
    """Idempotent: the moderators group, the workflow, and a group and collection for every cluster."""
    moderators = ensure_moderators()
    workflow = ensure_workflow(moderators)
    clusters = [ensure_cluster_roles(cluster) for cluster in ClusterPage.objects.order_by("path")]
    return {"moderators": moderators, "workflow": workflow, "clusters": clusters}


def contact_messages_for(user):
    """Members' messages about the practices this user may edit (all of them for a superuser)."""
    from .models import ContactMessage
    from .page_policy import page_policy

    messages = ContactMessage.objects.select_related("page")
    if user.is_superuser:
        return messages
    editable = page_policy.instances_user_has_permission_for(user, "change")
    return messages.filter(page__in=editable.values("pk"))


# Review


def review_cutoff(today=None, months=None):
    """The date before which a practice counts as not reviewed (calendar months, end-of-month clamped)."""
    today = today or timezone.localdate()
    months = settings.KB_REVIEW_AFTER_MONTHS if months is None else months
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    return datetime.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def practices_needing_review(queryset=None, today=None):
    """Published practices last reviewed (or, if never, last published) before the cutoff, oldest first."""
    queryset = PracticePage.objects.all() if queryset is None else queryset
    parent = ClusterPage.objects.filter(path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - 4))
    return (
        queryset.exclude(last_published_at__isnull=True)
        .annotate(
            reviewed_on=Coalesce(F("last_reviewed_at"), Cast("last_published_at", output_field=DateField())),
            cluster_title=Subquery(parent.values("title")[:1]),
            cluster_id=Subquery(parent.values("pk")[:1]),
        )
        .filter(reviewed_on__lt=review_cutoff(today))
        .order_by("reviewed_on", "pk")
    )


def _on_page_log_entry(sender, instance, created, raw=False, **kwargs):
    """A practice published by someone allowed to publish it has been reviewed. The audit log is the one
    record of who published (a workflow approval publishes as its approver); scheduled runs have no user."""
    if not created or raw or instance.action != "wagtail.publish" or instance.user_id is None:
        return
    page = PracticePage.objects.filter(pk=instance.page_id).first()
    if page is not None and page.permissions_for_user(instance.user).can_publish():
        reviewed = timezone.localdate(instance.timestamp)
        PracticePage.objects.filter(pk=page.pk).update(last_reviewed_at=reviewed)


# Audit log: Wagtail logs that a group was edited, not what its permissions became.


def permission_snapshot(group):
    """Every permission a group holds, as readable lines ("page 3: publish_page")."""
    if group is None or group.pk is None:
        return set()
    lines = {
        f"model: {app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }
    lines |= {
        f"page {page}: {code}"
        for page, code in group.page_permissions.values_list("page_id", "permission__codename")
    }
    lines |= {
        f"collection {collection}: {app}.{code}"
        for collection, app, code in group.collection_permissions.values_list(
            "collection_id", "permission__content_type__app_label", "permission__codename"
        )
    }
    return lines


def log_permission_change(group, before, after):
    granted, revoked = sorted(after - before), sorted(before - after)
    if granted or revoked:
        log(group, PERMISSIONS_CHANGED, data={"granted": granted, "revoked": revoked})


class PermissionChangeLog:
    """A group permission panel with nothing to show: registered last, Wagtail saves it after the real
    panels, so it can log what they changed (they save with bulk_create, which sends no signals)."""

    media = forms.Media()

    def __init__(self, data=None, files=None, instance=None, prefix=None):
        self.instance = instance
        self.before = permission_snapshot(instance)

    def is_valid(self):
        return True

    def as_admin_panel(self):
        return ""

    def save(self):
        log_permission_change(self.instance, self.before, permission_snapshot(self.instance))


def _on_membership_changed(sender, instance, action, pk_set, reverse, model, **kwargs):
    if action not in ("post_add", "post_remove"):
        return
    if reverse:
        groups, users = [instance], list(model.objects.filter(pk__in=pk_set or []))
    else:
        groups, users = list(Group.objects.filter(pk__in=pk_set or [])), [instance]
    key = "added" if action == "post_add" else "removed"
    for group in groups:
        log(group, PERMISSIONS_CHANGED, data={key: sorted(user.get_username() for user in users)})


# A user's own rights: Wagtail logs a superuser toggle only as a generic edit, and its admin never
# changes user_permissions, so those come from code or the shell. (Group.permissions is logged by
# PermissionChangeLog and setup_roles, which see the page and collection rights as well.)


def _remember_superuser(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and "is_superuser" not in update_fields):
        return
    instance._was_superuser = (
        sender.objects.filter(pk=instance.pk).values_list("is_superuser", flat=True).first()
        if instance.pk
        else False
    )


def _on_user_saved(sender, instance, created, raw=False, **kwargs):
    was = instance.__dict__.pop("_was_superuser", None)
    if raw or was is None or bool(was) == instance.is_superuser:
        return
    log(instance, PERMISSIONS_CHANGED, data={"superuser": "granted" if instance.is_superuser else "revoked"})


def _on_user_permissions_changed(sender, instance, action, pk_set, reverse, model, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    clearing = action == "pre_clear"
    if reverse:
        users = instance.user_set.all() if clearing else model.objects.filter(pk__in=pk_set)
        changed = Permission.objects.filter(pk=instance.pk)
    else:
        users = [instance]
        changed = instance.user_permissions.all() if clearing else Permission.objects.filter(pk__in=pk_set)
    lines = sorted(
        f"model: {app}.{code}" for app, code in changed.values_list("content_type__app_label", "codename")
    )
    if lines:
        key = "granted" if action == "post_add" else "revoked"
        for user in users:
            log(user, PERMISSIONS_CHANGED, data={key: lines})


# Clusters get their group and collection as soon as they exist, and keep them in step with their title.


def _on_cluster_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        ensure_cluster_roles(instance)


def _on_cluster_published(sender, instance, **kwargs):
    ensure_cluster_roles(instance)


def connect_signals():
    from django.contrib.auth import get_user_model

    post_save.connect(_on_cluster_saved, sender=ClusterPage, dispatch_uid="practices_cluster_roles_created")
    page_published.connect(
        _on_cluster_published, sender=ClusterPage, dispatch_uid="practices_cluster_roles_published"
    )
    m2m_changed.connect(
        _on_membership_changed,
        sender=get_user_model().groups.through,
        dispatch_uid="practices_log_group_members",
    )
    post_save.connect(_on_page_log_entry, sender=PageLogEntry, dispatch_uid="practices_reviewed_on_publish")
    user_model = get_user_model()
    pre_save.connect(_remember_superuser, sender=user_model, dispatch_uid="practices_user_superuser_before")
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="practices_log_superuser")
    m2m_changed.connect(
        _on_user_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="practices_log_user_permissions",
    )
