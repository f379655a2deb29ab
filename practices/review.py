"""Review without lost work: a page in review is shown read-only to its cluster's editors, who may withdraw
it to edit again; an approval says "Published" with the public link."""

from django_countries.fields import CountryField

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from modelcluster.fields import ParentalKey
from wagtail.fields import RichTextField
from wagtail.locks import WorkflowLock
from wagtail.models import Page, WorkflowState
from wagtail.rich_text import expand_db_html


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
