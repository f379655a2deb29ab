"""The review workflow end to end, and scheduled publication and expiry, through the admin's real views."""

import datetime
from unittest import mock

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from wagtail.models import Page, PageLogEntry, Revision, TaskState, WorkflowState
from wagtail.signals import page_published, page_unpublished
from wagtail.test.utils.form_data import rich_text

from practices.models import PracticePage
from tests.test_permissions import login, practice_form


def search_titles(client, text):
    response = client.get(reverse("search:search"), {"q": text})
    assert response.status_code == 200
    return response.content


def recipients():
    return {address for message in mail.outbox for address in message.to}


def workflow_state(page):
    return WorkflowState.objects.filter(object_id=str(page.pk)).order_by("-created_at").first()


def test_submit_reject_resubmit_approve(roles, client, run_on_commit):
    editor, moderator = roles.editor_a, roles.moderator
    add_url = reverse("wagtailadmin_pages:add", args=("practices", "practicepage", roles.a.pk))
    new = type("P", (), {"title": "Smart vineyards with drones", "slug": "smart-vineyards", "summary": "S"})

    # The cluster editor writes the practice and submits it.
    login(client, editor)
    with run_on_commit():
        response = client.post(add_url, practice_form(new, **{"action-submit": "submit"}))
    assert response.status_code == 302
    page = PracticePage.objects.get(slug="smart-vineyards")
    state = workflow_state(page)
    assert state.status == WorkflowState.STATUS_IN_PROGRESS and state.requested_by == editor
    # Reviewers are told (Wagtail adds superusers), the cluster editors are not.
    assert recipients() == {moderator.email, roles.admin.email}
    assert page.url.encode() not in search_titles(client, "drones")
    client.logout()
    assert client.get(page.url).status_code == 404

    # The cluster editor cannot approve their own submission.
    login(client, editor)
    task_state = state.current_task_state
    client.post(reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]))
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_IN_PROGRESS
    assert not Page.objects.get(pk=page.pk).live

    # The knowledge-base editor asks for changes, with a comment.
    mail.outbox.clear()
    login(client, moderator)
    with run_on_commit():
        response = client.post(
            reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "reject", task_state.pk]),
            {"comment": "Please add the results you measured."},
        )
    assert response.status_code == 302
    state.refresh_from_db()
    task_state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    assert task_state.comment == "Please add the results you measured."
    assert recipients() == {editor.email}
    assert "Please add the results you measured." in mail.outbox[0].body
    assert not Page.objects.get(pk=page.pk).live

    # The cluster editor revises and resubmits.
    mail.outbox.clear()
    login(client, editor)
    with run_on_commit():
        response = client.post(
            reverse("wagtailadmin_pages:edit", args=[page.pk]),
            practice_form(page, results=rich_text("<p>Yield up 12%.</p>"), **{"action-submit": "submit"}),
        )
    assert response.status_code == 302
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert recipients() == {moderator.email, roles.admin.email}

    # Approval publishes it: public, in search, and the submitter is told.
    mail.outbox.clear()
    login(client, moderator)
    task_state = state.current_task_state
    with run_on_commit():
        response = client.post(
            reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]),
            {"comment": ""},
        )
    assert response.status_code == 302
    page.refresh_from_db()
    state.refresh_from_db()
    assert page.live and state.status == WorkflowState.STATUS_APPROVED
    assert "Yield up 12%" in page.results
    assert recipients() == {editor.email}
    client.logout()
    assert client.get(page.url).status_code == 200
    assert page.url.encode() in search_titles(client, "drones")

    actions = list(
        PageLogEntry.objects.filter(page=page).order_by("timestamp", "pk").values_list("action", flat=True)
    )
    for expected in (
        "wagtail.workflow.start",
        "wagtail.workflow.reject",
        "wagtail.workflow.resume",
        "wagtail.workflow.approve",
        "wagtail.publish",
    ):
        assert expected in actions


def test_other_cluster_editor_cannot_act_on_a_submission(roles, client):
    login(client, roles.editor_a)
    client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk]),
        practice_form(roles.a_draft, **{"action-submit": "submit"}),
    )
    state = workflow_state(roles.a_draft)
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    login(client, roles.editor_b)
    for action in ("approve", "reject"):
        client.post(
            reverse(
                "wagtailadmin_pages:workflow_action",
                args=[roles.a_draft.pk, action, state.current_task_state.pk],
            ),
            {"comment": "x"},
        )
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert not Page.objects.get(pk=roles.a_draft.pk).live


# Scheduled publication and expiry, as Wagtail's `publish_scheduled` command applies them


def test_scheduled_publication_goes_live_through_publish_scheduled(roles, client):
    login(client, roles.moderator)
    go_live = timezone.now() + datetime.timedelta(days=2)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        practice_form(
            roles.b_draft,
            go_live_at=timezone.localtime(go_live).strftime("%Y-%m-%d %H:%M"),
            **{"action-publish": "publish"},
        ),
    )
    assert response.status_code == 302
    page = Page.objects.get(pk=roles.b_draft.pk)
    assert not page.live
    scheduled = Revision.page_revisions.get(object_id=str(page.pk), approved_go_live_at__isnull=False)
    assert scheduled.approved_go_live_at == go_live.replace(second=0, microsecond=0)

    received = []
    page_published.connect(
        lambda sender, instance, **kw: received.append(instance.pk), weak=False, dispatch_uid="t1"
    )
    try:
        call_command("publish_scheduled", stdout=open("/dev/null", "w"))
        assert not Page.objects.get(pk=page.pk).live  # not yet time
        later = go_live + datetime.timedelta(minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            call_command("publish_scheduled", stdout=open("/dev/null", "w"))
    finally:
        page_published.disconnect(dispatch_uid="t1")
    assert Page.objects.get(pk=page.pk).live
    assert received == [page.pk]
    assert PageLogEntry.objects.filter(page=page, action="wagtail.publish.scheduled").exists()


def test_expired_practice_is_unpublished_with_the_unpublish_signal(roles, client, run_on_commit):
    page = PracticePage.objects.get(pk=roles.b_live.pk)
    with run_on_commit():
        page.save_revision().publish()
    assert page.url.encode() in search_titles(client, "Vojvodina live")
    Page.objects.filter(pk=page.pk).update(expire_at=timezone.now() - datetime.timedelta(minutes=1))

    received = []
    page_unpublished.connect(
        lambda sender, instance, **kw: received.append(instance.pk), weak=False, dispatch_uid="t2"
    )
    try:
        with run_on_commit():
            call_command("publish_scheduled", stdout=open("/dev/null", "w"))
    finally:
        page_unpublished.disconnect(dispatch_uid="t2")
    page.refresh_from_db()
    assert not page.live and page.expired
    assert received == [page.pk]
    assert PageLogEntry.objects.filter(page=page, action="wagtail.unpublish.scheduled").exists()
    assert page.url.encode() not in search_titles(client, "Vojvodina live")
    assert client.get(page.url).status_code == 404


def test_the_compose_stack_sets_up_the_review_workflow_before_serving():
    from pathlib import Path

    compose = (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
    command = compose[compose.index("command: >") :]
    steps = ("manage.py migrate", "manage.py load_demo", "manage.py setup_roles", "exec gunicorn")
    positions = [command.index(step) for step in steps]
    assert positions == sorted(positions)
