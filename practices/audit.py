"""The audit log of permission changes: Wagtail logs that a group was edited, not what its
permissions became, nor who joined it, nor a user's own rights; each of those is logged here as
``practices.permissions_changed``."""

from django import forms
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_save, pre_save

from wagtail.log_actions import log

PERMISSIONS_CHANGED = "practices.permissions_changed"


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


def connect_signals():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    m2m_changed.connect(
        _on_membership_changed,
        sender=user_model.groups.through,
        dispatch_uid="practices_log_group_members",
    )
    pre_save.connect(_remember_superuser, sender=user_model, dispatch_uid="practices_user_superuser_before")
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="practices_log_superuser")
    m2m_changed.connect(
        _on_user_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="practices_log_user_permissions",
    )
