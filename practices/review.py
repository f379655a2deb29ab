"""Review without lost work: a page in review is shown read-only to its cluster's editors, who may withdraw
it to edit again; an approval says "Published" with the public link. And the review report: practices
whose last review (a publish by someone allowed to publish) is older than KB_REVIEW_AFTER_MONTHS."""

import calendar
import datetime

from django_countries.fields import CountryField

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import DateField, F, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce, Length, Substr
from django.db.models.signals import post_save
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from modelcluster.fields import ParentalKey
from wagtail.fields import RichTextField
from wagtail.locks import WorkflowLock
from wagtail.models import Page, PageLogEntry, WorkflowState
from wagtail.rich_text import expand_db_html

from .models import ClusterPage, PracticePage


def review_lock(page, user):
    """The page's active review when it keeps this user from editing (they may submit, not approve)."""
    lock = page.get_lock()
    if not (isinstance(lock, WorkflowLock) and lock.for_user(user)):
        return None
    state = page.current_workflow_state
    return state if state and state.status == WorkflowState.STATUS_IN_PROGRESS else None


def _value(page, field):
    value = getattr(page, field.name, None)
    if isinstance(field, RichTextField):
        return format_html("<div class='kb-readonly__rich'>{}</div>", expand_db_html(value)) if value else ""
    if field.many_to_many:
        return ", ".join(str(item) for item in value.all())
    if isinstance(field, CountryField) and field.multiple:
        return ", ".join(country.name for country in value)
    if hasattr(value, "name") and hasattr(value, "code"):  # a country
        return value.name or ""
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices or []).get(value, value))
    if value in (None, "") or isinstance(value, bool):
        return "Yes" if value is True else ""
    return str(value)


def readable_fields(page):
    """(label, value) of every field of the page's edit form that has a value, in the form's order."""
    form_fields = page.get_edit_handler().get_form_options().get("fields", [])
    rows = []
    for name in form_fields:
        if name in ("title", "slug", "comment_notifications"):
            continue
        try:
            field = page._meta.get_field(name)
        except Exception:
            continue
        value = _value(page, field)
        if value:
            rows.append((str(field.verbose_name).capitalize(), value))
    for relation in page._meta.related_objects:
        if isinstance(relation.remote_field, ParentalKey) and relation.related_name not in ("comments",):
            items = list(getattr(page, relation.related_name).all())
            if items:
                label = str(relation.related_model._meta.verbose_name_plural).capitalize()
                rows.append((label, format_html_join(", ", "{}", ((_child_label(item),) for item in items))))
    return rows


def _child_label(item):
    for name in ("document", "related", "page_link", "practice"):
        target = getattr(item, name, None)
        if target is not None:
            return getattr(target, "title", str(target))
    return str(item)


def read_only_while_in_review(request, page):
    """``before_edit_page``: no form whose edits would be refused while the page is in review."""
    state = review_lock(page, request.user)
    if state is None:
        return None
    message = "This page is in review, so it cannot be changed now. Withdraw it from review to edit it."
    if request.method == "POST":
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse(
                {"success": False, "error_code": "in_review", "error_message": message}, status=409
            )
        messages.error(request, message)
        return redirect("wagtailadmin_pages:edit", page.pk)
    revision_page = page.get_latest_revision_as_object()
    context = {
        "page": page,
        "page_title": f"In review: {page.get_admin_display_title()}",
        "header_title": f"In review: {page.get_admin_display_title()}",
        "state": state,
        "can_withdraw": state.user_can_cancel(request.user),
        "fields": readable_fields(revision_page),
        "title": revision_page.title,
        "withdraw_url": reverse("practices_withdraw_review", args=[page.pk]),
        "view_draft_url": reverse("wagtailadmin_pages:view_draft", args=[page.pk]),
    }
    return TemplateResponse(request, "practices/admin/in_review.html", context)


@require_POST
def withdraw(request, page_id):
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    state = page.current_workflow_state
    if state is None:
        messages.info(request, "This page is not in review; you can edit it.")
    elif not state.user_can_cancel(request.user):
        raise PermissionDenied
    else:
        state.cancel(user=request.user)
        messages.success(
            request,
            f"'{page.get_admin_display_title()}' is withdrawn from review: edit it, then submit it again.",
        )
    return redirect("wagtailadmin_pages:edit", page.pk)


def say_published(request, page):
    """``after_edit_page``: approving in the editor publishes; say so, with the public link."""
    if request.method != "POST" or request.POST.get("workflow-action-name") != "approve":
        return None
    page = Page.objects.get(pk=page.pk).specific
    if not page.live:
        return None
    # Replace Wagtail's "has been updated", queued by this request, rather than add to it.
    queued = messages.get_messages(request)._queued_messages
    queued[:] = [m for m in queued if "has been updated" not in str(m.message)]
    messages.success(
        request,
        format_html(
            'Published: "{}" is on the public site. <a href="{}">View it live</a>', page.title, page.full_url
        ),
    )
    return None


# The review report: practices not reviewed for KB_REVIEW_AFTER_MONTHS.


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


def connect_signals():
    post_save.connect(_on_page_log_entry, sender=PageLogEntry, dispatch_uid="practices_reviewed_on_publish")
