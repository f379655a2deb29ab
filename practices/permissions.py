"""Publishing roles: the knowledge-base editors, one group and collection per cluster, the review workflow.

Everything here is expressed in Wagtail's own permission records (GroupPagePermission,
GroupCollectionPermission, a GroupApprovalTask workflow), so the admin enforces it in every view.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save

from wagtail.log_actions import log
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)
from wagtail.signals import page_published

from .audit import log_permission_change, permission_snapshot
from .models import ClusterIndexPage, ClusterPage, EventIndexPage

MODERATORS = "Knowledge-base editors"
WORKFLOW = "Review by knowledge-base editors"
APPROVAL_TASK = "Approval by a knowledge-base editor"
CLUSTER_GROUP_PREFIX = "Cluster editors: "

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


# Clusters get their group and collection as soon as they exist, and keep them in step with their title.


def _on_cluster_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        ensure_cluster_roles(instance)


def _on_cluster_published(sender, instance, **kwargs):
    ensure_cluster_roles(instance)


def connect_signals():
    post_save.connect(_on_cluster_saved, sender=ClusterPage, dispatch_uid="practices_cluster_roles_created")
    page_published.connect(
        _on_cluster_published, sender=ClusterPage, dispatch_uid="practices_cluster_roles_published"
    )
