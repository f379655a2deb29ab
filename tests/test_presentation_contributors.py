"""Cluster editors add their presentations to a meeting: through the admin's real views, their own cluster's
only, reviewed like practices; another cluster's presentations and the meeting stay out of their reach."""

import copy
import datetime
import json

import pytest

from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from wagtail.models import Page, WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from practices import permissions
from practices.factories import EventPageFactory, PresentationPageFactory, UserFactory
from practices.models import EventPage, KBDocument, PresentationPage
from tests.test_permissions import PDF, login, snapshot

SECRET = "Zqsecret Vojvodina talk"


@pytest.fixture(scope="module")
def meeting_data(roles_data):
    roles = roles_data
    events = roles.site["events"]
    events.save_revision().publish()
    meeting = EventPageFactory(parent=events, title="Cluster meeting in Novi Sad", slug="novi-sad")
    meeting.save_revision().publish()
    roles.meeting = meeting
    roles.b_talk = PresentationPageFactory(
        parent=meeting, title="Vojvodina live talk", slug="b-live", presenting_cluster=roles.b
    )
    roles.b_talk.save_revision().publish()
    roles.b_talk.title = "Vojvodina Zqrenamed talk"
    roles.b_talk.save_revision()  # an unpublished change of a live presentation
    roles.b_draft_talk = PresentationPageFactory(
        parent=meeting, title=SECRET, slug="b-draft", presenting_cluster=roles.b, live=False
    )
    roles.b_draft_talk.save_revision()
    roles.colleague_a = UserFactory(username="colleague_a", groups=[roles.group_a])
    return roles


@pytest.fixture
def meeting(meeting_data, db):
    """The roles, with a meeting holding Vojvodina's live and draft talks: built once per module."""
    return copy.deepcopy(meeting_data)


def presentation_form(title="Cluj at Novi Sad", cluster=None, slides=None, **changes):
    data = {
        "title": title,
        "slug": "cluj-at-novi-sad",
        "presenter": "A. Presenter",
        "presenter_role": "",
        "presenting_cluster": "" if cluster is None else cluster.pk,
        "tags": "",
        "abstract": rich_text("<p>What we showed.</p>"),
        "slides": "" if slides is None else slides.pk,
        "comments": inline_formset([]),
    }
    data.update(changes)
    return nested_form_data(data)


def add_url(meeting):
    return reverse("wagtailadmin_pages:add", args=("practices", "presentationpage", meeting.pk))


def upload_slides(client, roles):
    """Slides uploaded in the page's document chooser, asking for the other cluster's collection."""
    response = client.post(
        reverse("wagtaildocs_chooser:create"),
        {
            "document-chooser-upload-title": "Cluj slides",
            "document-chooser-upload-file": ContentFile(PDF, name="cluj_slides.pdf"),
            "document-chooser-upload-collection": roles.coll_b.pk,
        },
    )
    assert response.status_code == 200
    return KBDocument.objects.get(title="Cluj slides")


def test_cluster_editor_adds_and_submits_a_presentation_and_a_reviewer_approves(meeting, client):
    roles = meeting
    login(client, roles.editor_a)
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    # One meeting: the button leads straight to the add form under it.
    assert f'href="{add_url(roles.meeting)}"' in dashboard and "Add presentation" in dashboard

    form = client.get(add_url(roles.meeting))
    assert form.status_code == 200
    html = form.content.decode()
    assert f'<option value="{roles.a.pk}" selected>Cluj IT Cluster</option>' in html
    assert "Vojvodina ICT Cluster" not in html

    slides = upload_slides(client, roles)
    assert slides.collection == roles.coll_a  # the cluster's own collection, as for documents

    response = client.post(
        add_url(roles.meeting), presentation_form(cluster=roles.a, slides=slides, **{"action-submit": "1"})
    )
    assert response.status_code == 302, response.context["form"].errors
    talk = PresentationPage.objects.get(title="Cluj at Novi Sad")
    assert talk.get_parent().pk == roles.meeting.pk and talk.presenting_cluster_id == roles.a.pk
    assert talk.slides_id == slides.pk and not talk.live
    state = WorkflowState.objects.get(object_id=str(talk.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == permissions.WORKFLOW

    # On the dashboard, as awaiting review, for its cluster only; in the reviewers' queue.
    assert "Awaiting review (1)" in client.get(reverse("wagtailadmin_home")).content.decode()
    other = login(Client(), roles.editor_b).get(reverse("wagtailadmin_home")).content.decode()
    assert "Cluj at Novi Sad" not in other
    queue = login(Client(), roles.moderator).get(reverse("wagtailadmin_home")).content.decode()
    assert "Cluj at Novi Sad" in queue

    reviewer = login(Client(), roles.moderator)
    response = reviewer.post(
        reverse("wagtailadmin_pages:workflow_action", args=[talk.pk, "approve", state.current_task_state.pk]),
        {"comment": ""},
    )
    assert response.status_code == 302
    talk.refresh_from_db()
    assert talk.live and talk.presenting_cluster_id == roles.a.pk


def test_a_colleague_of_the_same_cluster_edits_it_too(meeting, client):
    roles = meeting
    login(client, roles.editor_a)
    assert client.post(add_url(roles.meeting), presentation_form(cluster=roles.a)).status_code == 302
    talk = PresentationPage.objects.get(title="Cluj at Novi Sad")
    assert talk.owner == roles.editor_a

    login(client, roles.colleague_a)
    edit = reverse("wagtailadmin_pages:edit", args=[talk.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit, presentation_form(title="Cluj at Novi Sad, revised", cluster=roles.a, slug=talk.slug)
    )
    assert response.status_code == 302
    assert Page.objects.get(pk=talk.pk).draft_title == "Cluj at Novi Sad, revised"
    # ...and sees it on the dashboard with the cluster's drafts.
    assert "Cluj at Novi Sad, revised" in client.get(reverse("wagtailadmin_home")).content.decode()


def refused(response):
    """Wagtail refuses with 403, or for a page view with a redirect to the dashboard and a message."""
    return response.status_code == 403 or (
        response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    )


def test_cluster_editor_cannot_touch_another_clusters_presentation_or_the_meeting(meeting, client):
    roles = meeting
    login(client, roles.editor_a)
    before = {page.pk: snapshot(page) for page in (roles.b_talk, roles.b_draft_talk, roles.meeting)}
    for page in (roles.b_talk, roles.b_draft_talk):
        edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
        assert refused(client.get(edit))
        assert refused(client.post(edit, presentation_form(title="Taken over", cluster=roles.a)))
        assert refused(client.post(reverse("wagtailadmin_pages:delete", args=[page.pk])))
    edit = reverse("wagtailadmin_pages:edit", args=[roles.meeting.pk])
    assert refused(client.get(edit))
    assert refused(client.post(edit, {"title": "Taken over", "start_date": "2020-01-01"}))
    # No meetings of their own, and no presentation under a meeting the public cannot see.
    add_meeting = reverse("wagtailadmin_pages:add", args=("practices", "eventpage", roles.site["events"].pk))
    assert refused(client.get(add_meeting))
    hidden = EventPageFactory(
        parent=roles.site["events"], title="Planned meeting", slug="planned", live=False
    )
    assert refused(client.get(add_url(hidden)))
    assert refused(client.post(add_url(hidden), presentation_form(cluster=roles.a)))
    assert {page.pk: snapshot(page) for page in (roles.b_talk, roles.b_draft_talk, roles.meeting)} == before
    assert not PresentationPage.objects.filter(title__in=["Taken over", "Cluj at Novi Sad"]).exists()
    assert EventPage.objects.filter(title="Taken over").count() == 0


def test_presenting_cluster_cannot_be_another_cluster(meeting, client):
    roles = meeting
    login(client, roles.editor_a)
    response = client.post(add_url(roles.meeting), presentation_form(cluster=roles.b))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PresentationPage.objects.filter(title="Cluj at Novi Sad").exists()
    response = client.post(add_url(roles.meeting), presentation_form())
    assert response.status_code == 200 and "Choose your cluster" in response.content.decode()
    assert not PresentationPage.objects.filter(title="Cluj at Novi Sad").exists()

    assert client.post(add_url(roles.meeting), presentation_form(cluster=roles.a)).status_code == 302
    talk = PresentationPage.objects.get(title="Cluj at Novi Sad")
    before = snapshot(talk)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[talk.pk]),
        presentation_form(cluster=roles.b, slug=talk.slug),
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert snapshot(talk) == before
    assert PresentationPage.objects.get(pk=talk.pk).get_latest_revision_as_object().presenting_cluster_id == (
        roles.a.pk
    )


def admin_views(roles):
    return [
        reverse("wagtailadmin_home"),
        reverse("wagtailadmin_explore", args=[roles.meeting.pk]),
        reverse("wagtailadmin_choose_page_child", args=[roles.meeting.pk]),
        reverse("wagtailadmin_choose_page_search") + "?q=Vojvodina",
        reverse("wagtailadmin_choose_page_search") + "?q=talk",
        reverse("wagtailadmin_pages:search") + "?q=Vojvodina",
        reverse("wagtailadmin_pages:search") + "?q=talk",
        f"/admin/choose-page/chosen-multiple/?id={roles.b_draft_talk.pk}&id={roles.b_talk.pk}",
        reverse("wagtailadmin_reports:workflow"),
    ]


def test_another_clusters_draft_presentation_is_unseen(meeting, client):
    roles = meeting
    login(Client(), roles.editor_b).post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft_talk.pk]),
        presentation_form(title=SECRET, cluster=roles.b, slug="b-draft", **{"action-submit": "1"}),
    )
    assert WorkflowState.objects.filter(object_id=str(roles.b_draft_talk.pk)).exists()
    login(client, roles.editor_a)
    seen = ""
    for url in admin_views(roles):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        seen += response.content.decode()
    assert "Zqsecret" not in seen and "Zqrenamed" not in seen
    chosen = json.loads(client.get(admin_views(roles)[-2]).content)["result"]
    assert [c["adminTitle"] for c in chosen] == ["Vojvodina live talk"]

    # Its own cluster's editors see it.
    login(client, roles.editor_b)
    assert SECRET in client.get(reverse("wagtailadmin_home")).content.decode()


def test_dashboard_lists_meetings_newest_first_when_there_are_several(meeting, client):
    roles = meeting
    older = EventPageFactory(
        parent=roles.site["events"], title="Older meeting", slug="older", start_date=datetime.date(2012, 5, 1)
    )
    older.save_revision().publish()
    EventPageFactory(parent=roles.site["events"], title="Zqplanned meeting", slug="planned", live=False)
    login(client, roles.editor_a)
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert f'href="{reverse("practices_add_presentation")}"' in dashboard
    response = client.get(reverse("practices_add_presentation"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(add_url(roles.meeting)) < html.index(add_url(older))  # 2016 before 2012
    assert "Zqplanned" not in html

    # One meeting left: straight to its add form. None: no button, and the list says why.
    Page.objects.get(pk=older.pk).unpublish()
    assert client.get(reverse("practices_add_presentation")).url == add_url(roles.meeting)
    Page.objects.get(pk=roles.meeting.pk).unpublish()
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert ">Add presentation</a>" not in dashboard and "once a meeting is published" in dashboard
    assert "No meeting is published yet" in client.get(reverse("practices_add_presentation")).content.decode()


def test_meeting_list_is_for_cluster_editors(meeting, client):
    login(client, meeting.moderator)
    assert refused(client.get(reverse("practices_add_presentation")))
