"""The cluster editor's way in: the dashboard's "Your cluster", the read-only view in review, withdrawing,
and "Published" on approval; never another cluster's content."""

import pytest

from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from wagtail.models import Page, WorkflowState

from practices.factories import ClusterPageFactory, UserFactory
from practices.models import PracticePage
from tests.test_permissions import login, practice_form, snapshot


def submit(client, user, page):
    login(client, user)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]), practice_form(page, **{"action-submit": "submit"})
    )
    assert response.status_code == 302
    return WorkflowState.objects.filter(object_id=str(page.pk)).order_by("-created_at").first()


def dashboard(client, user):
    login(client, user)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_your_cluster_has_the_way_in_and_only_own_work(roles, client):
    html = dashboard(client, roles.editor_a)
    assert "Your cluster: Cluj IT Cluster" in html
    add_url = reverse("wagtailadmin_pages:add", args=("practices", "practicepage", roles.a.pk))
    assert f'href="{add_url}"' in html and "Add practice" in html
    assert reverse("wagtailadmin_pages:edit", args=[roles.a.pk]) in html  # the cluster's profile
    assert "Cluj draft practice" in html
    assert "Vojvodina" not in html  # another cluster's drafts, titles and links stay unseen
    assert reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]) not in html
    assert "Nothing is waiting for the knowledge-base editors." in html


def test_dashboard_empty_cluster_has_friendly_empty_states(roles, client):
    from practices import permissions

    empty = ClusterPageFactory(parent=roles.site["clusters"], title="Montenegrin IT Cluster", slug="mne")
    empty.save_revision().publish()
    editor = UserFactory(username="editor_mne", groups=[permissions.cluster_group(empty)])
    html = dashboard(client, editor)
    assert "Your cluster: Montenegrin IT Cluster" in html
    assert 'No drafts. "Add practice" starts one' in html
    assert "1-0 of 0" not in html


def test_dashboard_shows_review_state_and_the_reviewers_comment(roles, client):
    state = submit(client, roles.editor_a, roles.a_draft)
    html = dashboard(client, roles.editor_a)
    assert "Awaiting review (1)" in html
    assert "Awaiting review (0)" in dashboard(client, roles.editor_b)

    login(client, roles.moderator)
    client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[roles.a_draft.pk, "reject", state.current_task_state.pk],
        ),
        {"comment": "Please name the partners."},
    )
    html = dashboard(client, roles.editor_a)
    assert "Sent back with comments (1)" in html and "Please name the partners." in html
    assert "Please name the partners." not in dashboard(client, roles.editor_b)


def test_reviewers_see_submissions_across_clusters_oldest_first(roles, client):
    submit(client, roles.editor_b, roles.b_draft)
    submit(client, roles.editor_a, roles.a_draft)
    html = dashboard(client, roles.moderator)
    assert "Your cluster" not in html
    assert html.index("Vojvodina secret draft") < html.index("Cluj draft practice")


def test_in_review_the_editor_gets_a_read_only_view_and_edits_are_refused(roles, client):
    page = roles.a_draft
    submit(client, roles.editor_a, page)
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "In review by knowledge-base editors since" in html and "you can withdraw it to edit" in html
    assert 'id="page-edit-form"' not in html and "w-autosave" not in html
    assert "Shared work." in html  # what was submitted, read-only

    before = snapshot(page)
    response = client.post(url, practice_form(page, title="Changed while in review"))
    assert response.status_code == 302
    assert "cannot be changed now" in str(list(get_messages(response.wsgi_request))[0])
    autosave = client.post(url, practice_form(page, title="Autosaved"), HTTP_ACCEPT="application/json")
    assert autosave.status_code == 409 and autosave.json()["error_code"] == "in_review"
    assert snapshot(page) == before

    # The reviewer still gets Wagtail's own editor.
    login(client, roles.moderator)
    assert 'id="page-edit-form"' in client.get(url).content.decode()


def test_withdraw_lets_the_submitter_edit_again_and_no_one_else(roles, client):
    page = roles.a_draft
    state = submit(client, roles.editor_a, page)
    withdraw = reverse("practices_withdraw_review", args=[page.pk])

    # Another cluster's editor gets Wagtail's "permission denied" (a redirect to the dashboard).
    login(client, roles.editor_b)
    refused = client.post(withdraw)
    assert refused.status_code == 302 and refused.url == reverse("wagtailadmin_home")
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS

    login(client, roles.editor_a)
    assert client.get(withdraw).status_code == 405
    response = client.post(withdraw)
    assert response.status_code == 302
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_CANCELLED
    assert (
        'id="page-edit-form"'
        in client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    )


def test_approving_in_the_editor_says_published_with_the_public_link(roles, client, settings):
    settings.KB_BASE_URL = settings.WAGTAILADMIN_BASE_URL = "http://kb.example.test:8100"
    page = roles.a_draft
    submit(client, roles.editor_a, page)
    mail.outbox.clear()
    login(client, roles.moderator)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        practice_form(page, **{"action-workflow-action": "true", "workflow-action-name": "approve"}),
    )
    assert response.status_code == 302
    assert Page.objects.get(pk=page.pk).live
    shown = [str(m.message) for m in get_messages(response.wsgi_request)]
    assert not any("has been updated" in m for m in shown)
    [published] = [m for m in shown if m.startswith("Published:")]
    assert "http://kb.example.test:8100/clusters/cluj/" in published
    [email] = mail.outbox
    assert email.to == [roles.editor_a.email] and email.subject.startswith("Published:")


@pytest.mark.parametrize("who", ["editor_b"])
def test_other_cluster_cannot_see_the_in_review_view(roles, client, who):
    submit(client, roles.editor_a, roles.a_draft)
    login(client, getattr(roles, who))
    response = client.get(reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk]))
    assert response.status_code in (302, 403) and b"Cluj draft practice" not in response.content
    assert PracticePage.objects.get(pk=roles.a_draft.pk).title == "Cluj draft practice"
