"""Publishing roles through the admin's real views: allowed actions succeed, forbidden ones change nothing."""

import datetime
from types import SimpleNamespace

import pytest

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse

from wagtail.models import Collection, GroupPagePermission, Page, PageLogEntry, WorkflowPage
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from practices import permissions, review
from practices.factories import (
    ClusterPageFactory,
    ImageFactory,
    KBDocumentFactory,
    NetworkFactory,
    PracticeDocumentFactory,
)
from practices.models import Industry, KBDocument, Network, PracticePage


def _connected_at_startup():
    return any(key[0] == "practices_cluster_roles_created" for key, *_ in post_save.receivers)


# Taken at import, before any fixture below connects the receivers itself.
CONNECTED_AT_STARTUP = _connected_at_startup()

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def document(collection, title):
    return KBDocumentFactory(
        title=title,
        collection=collection,
        file=ContentFile(PDF, name=f"{title}.pdf"),
        text_status=KBDocument.STATUS_FAILED,
    )


def login(client, user):
    client.force_login(user)
    return client


def practice_form(page, **changes):
    data = {
        "title": page.title,
        "slug": page.slug,
        "summary": page.summary,
        "challenge": rich_text(""),
        "solution": rich_text("<p>Shared work.</p>"),
        "results": rich_text(""),
        "resources": rich_text(""),
        "transferability": rich_text(""),
        "tags": "",
        "attached_documents": inline_formset([]),
        "related_practices": inline_formset([]),
        "comments": inline_formset([]),
    }
    data.update(changes)
    return nested_form_data(data)


def snapshot(page):
    page = Page.objects.get(pk=page.pk)
    return (page.title, page.live, page.path, page.latest_revision_id, page.has_unpublished_changes)


# Set-up


def test_cluster_signals_are_connected_at_startup():
    assert CONNECTED_AT_STARTUP, "practices/apps.py ready() must call practices.permissions.connect_signals()"


def test_each_cluster_gets_a_group_and_collection_with_page_rights_but_no_publish(roles):
    assert roles.group_a.name == "Cluster editors: Cluj IT Cluster"
    assert roles.coll_a.name == "Cluj IT Cluster"
    assert roles.coll_a.get_parent() == Collection.get_first_root_node()
    codenames = set(
        GroupPagePermission.objects.filter(group=roles.group_a).values_list("page_id", "permission__codename")
    )
    assert codenames == {(roles.a.pk, "add_page"), (roles.a.pk, "change_page")}
    assert roles.group_a != roles.group_b and roles.coll_a != roles.coll_b


def test_a_new_cluster_page_gets_its_group_at_once(roles):
    c = ClusterPageFactory(parent=roles.site["clusters"], title="Montenegrin IT Cluster")
    group = permissions.cluster_group(c)
    assert group is not None and group.name == "Cluster editors: Montenegrin IT Cluster"
    assert permissions.cluster_collection(c).name == "Montenegrin IT Cluster"


def test_renaming_a_cluster_renames_its_group_and_collection_on_publish(roles):
    roles.a.title = "Cluj IT"
    roles.a.save_revision().publish()
    assert permissions.cluster_group(roles.a).pk == roles.group_a.pk
    assert permissions.cluster_group(roles.a).name == "Cluster editors: Cluj IT"
    assert permissions.cluster_collection(roles.a).name == "Cluj IT"


def test_setup_roles_is_idempotent(roles):
    counts = (Group.objects.count(), Collection.objects.count(), GroupPagePermission.objects.count())
    call_command("setup_roles", stdout=open("/dev/null", "w"))
    call_command("setup_roles", stdout=open("/dev/null", "w"))
    assert (Group.objects.count(), Collection.objects.count(), GroupPagePermission.objects.count()) == counts
    workflow_page = WorkflowPage.objects.get(page=roles.site["clusters"])
    assert workflow_page.workflow.name == permissions.WORKFLOW
    task = workflow_page.workflow.tasks.get().specific
    assert list(task.groups.all()) == [roles.moderators]


def test_two_clusters_with_the_same_title_get_separate_groups(roles):
    c = ClusterPageFactory(parent=roles.site["clusters"], title="Cluj IT Cluster", slug="cluj-2")
    group = permissions.cluster_group(c)
    assert group.pk != roles.group_a.pk
    assert group.name == f"Cluster editors: Cluj IT Cluster ({c.pk})"


def test_add_cluster_editor_creates_account_and_one_time_link(roles, client, capsys):
    call_command("add_cluster_editor", "cluj", "New.Person@Example.org")
    out = capsys.readouterr().out
    user = get_user_model().objects.get(email="New.Person@example.org")
    assert not user.has_usable_password()
    assert list(user.groups.all()) == [roles.group_a]
    link = next(word for word in out.split() if word.startswith("http"))
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_url = client.get("/" + path).url  # Django swaps the token for a session, then shows the form
    response = client.post(form_url, {"new_password1": "a-Long-passw0rd", "new_password2": "a-Long-passw0rd"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-Long-passw0rd")
    # Used once: the same link no longer leads to a form.
    client.logout()
    again = client.get("/" + path, follow=True)
    assert b"new_password1" not in again.content


def test_add_cluster_editor_refuses_unknown_cluster(roles):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("add_cluster_editor", "no-such-cluster", "x@example.org")
    assert not get_user_model().objects.filter(email="x@example.org").exists()


# Cluster editors: their own cluster


def test_cluster_editor_adds_a_practice_under_own_cluster_as_draft(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:add", args=("practices", "practicepage", roles.a.pk))
    page = SimpleNamespace(title="New Cluj practice", slug="new-cluj-practice", summary="S")
    response = client.post(url, practice_form(page))
    assert response.status_code == 302
    created = PracticePage.objects.get(slug="new-cluj-practice")
    assert created.get_parent().pk == roles.a.pk and not created.live
    assert created.owner == roles.editor_a


def test_cluster_editor_edits_own_practice_but_cannot_publish_it(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.a_live.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, practice_form(roles.a_live, title="Cluj practice, revised"))
    assert response.status_code == 302
    page = PracticePage.objects.get(pk=roles.a_live.pk)
    assert page.get_latest_revision_as_object().title == "Cluj practice, revised"
    assert page.title == "Cluj live practice"  # the live version is untouched until review

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk]),
        practice_form(roles.a_draft, title="Published by me", **{"action-publish": "publish"}),
    )
    assert response.status_code in (302, 403)
    page = Page.objects.get(pk=roles.a_draft.pk)
    assert not page.live and page.last_published_at is None
    assert not PageLogEntry.objects.filter(page=page, action="wagtail.publish").exists()


def test_cluster_editor_cannot_bulk_publish_own_draft(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    client.post(f"{url}?id={roles.a_draft.pk}", {})
    assert not Page.objects.get(pk=roles.a_draft.pk).live


# Cluster editors: another cluster's pages, by URL

FORBIDDEN_GETS = [
    ("wagtailadmin_pages:edit", lambda r: [r.b_live.pk]),
    ("wagtailadmin_pages:edit", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:delete", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:move", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:move_confirm", lambda r: [r.b_draft.pk, r.a.pk]),
    ("wagtailadmin_pages:unpublish", lambda r: [r.b_live.pk]),
    ("wagtailadmin_pages:view_draft", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:preview_on_edit", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:history", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:revisions_index", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:copy", lambda r: [r.b_draft.pk]),
    ("wagtailadmin_pages:add_subpage", lambda r: [r.b.pk]),
    ("wagtailadmin_pages:add", lambda r: ["practices", "practicepage", r.b.pk]),
    ("wagtailadmin_pages:lock", lambda r: [r.b_draft.pk]),
]


@pytest.mark.parametrize(("name", "args"), FORBIDDEN_GETS, ids=[n for n, _ in FORBIDDEN_GETS])
def test_cluster_editor_cannot_reach_other_clusters_pages(roles, client, name, args):
    login(client, roles.editor_a)
    url = reverse(name, args=args(roles))
    before = (snapshot(roles.b_draft), snapshot(roles.b_live), Page.objects.count())
    for response in (client.get(url), client.post(url, practice_form(roles.b_draft, title="Hijacked"))):
        assert response.status_code in (302, 403, 404, 405), (name, response.status_code)
        if response.status_code == 302:
            assert "login" not in response.url
        assert b"Vojvodina secret draft" not in response.content
    assert (snapshot(roles.b_draft), snapshot(roles.b_live), Page.objects.count()) == before


def test_cluster_editor_cannot_publish_other_clusters_page_from_its_edit_view(roles, client):
    login(client, roles.editor_a)
    before = (snapshot(roles.b_draft), snapshot(roles.b_live))
    for page in (roles.b_draft, roles.b_live):
        response = client.post(
            reverse("wagtailadmin_pages:edit", args=[page.pk]),
            practice_form(page, title="Published by Cluj", **{"action-publish": "publish"}),
        )
        assert response.status_code in (302, 403)
    assert (snapshot(roles.b_draft), snapshot(roles.b_live)) == before
    assert not PageLogEntry.objects.filter(action="wagtail.publish", user=roles.editor_a).exists()


BULK_ACTIONS = [
    ("publish", lambda r: r.b_draft, {}),
    ("unpublish", lambda r: r.b_live, {"include_descendants": ""}),
    ("delete", lambda r: r.b_draft, {}),
    ("move", lambda r: r.b_draft, {"chooser": "a"}),
]


@pytest.mark.parametrize(("action", "target", "data"), BULK_ACTIONS, ids=[a for a, *_ in BULK_ACTIONS])
def test_cluster_editor_bulk_actions_on_other_clusters_pages_change_nothing(
    roles, client, action, target, data
):
    login(client, roles.editor_a)
    page = target(roles)
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", action)) + f"?id={page.pk}"
    data = {key: (roles.a.pk if value == "a" else value) for key, value in data.items()}
    before = (snapshot(roles.b_draft), snapshot(roles.b_live), Page.objects.count())
    for response in (client.get(url), client.post(url, data)):
        assert response.status_code in (200, 302, 403)
        assert b"Vojvodina secret draft" not in response.content
    assert (snapshot(roles.b_draft), snapshot(roles.b_live), Page.objects.count()) == before
    assert Page.objects.get(pk=page.pk).get_parent().pk == roles.b.pk


def test_moderator_bulk_publishes_other_clusters_draft(roles, client):
    login(client, roles.moderator)
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    response = client.post(f"{url}?id={roles.b_draft.pk}", {})
    assert response.status_code == 302
    assert Page.objects.get(pk=roles.b_draft.pk).live


def test_cluster_editor_cannot_read_other_clusters_revisions_or_workflow_preview(roles, client):
    login(Client(), roles.editor_b).post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        practice_form(roles.b_draft, **{"action-submit": "submit"}),
    )
    page = Page.objects.get(pk=roles.b_draft.pk)
    revision = page.latest_revision
    task = WorkflowPage.objects.get(page=roles.site["clusters"]).workflow.tasks.get()
    urls = [
        reverse("wagtailadmin_pages:revisions_view", args=[page.pk, revision.pk]),
        reverse("wagtailadmin_pages:revisions_compare", args=[page.pk, "earliest", "latest"]),
        reverse("wagtailadmin_pages:revisions_compare", args=[page.pk, revision.pk, "latest"]),
        reverse("wagtailadmin_pages:revisions_revert", args=[page.pk, revision.pk]),
        reverse("wagtailadmin_pages:workflow_preview", args=[page.pk, task.pk]),
        reverse("wagtailadmin_pages:workflow_history", args=[page.pk]),
    ]
    login(client, roles.editor_a)
    before = snapshot(page)
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), (url, response.status_code)
        assert b"Vojvodina secret draft" not in response.content
    assert snapshot(page) == before
    # The revision is open to the page's own cluster editor; the workflow preview to its reviewers.
    login(client, roles.editor_b)
    assert client.get(urls[0]).status_code == 200
    login(client, roles.moderator)
    assert client.get(urls[0]).status_code == 200
    assert client.get(urls[4]).status_code == 200


def test_cluster_editor_preview_of_other_cluster_draft_does_not_render_it(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[roles.b_draft.pk])
    response = client.post(url, practice_form(roles.b_draft))
    assert response.status_code in (302, 403)
    response = client.get(url, follow=True)
    assert b"Vojvodina secret draft" not in response.content


def test_cluster_editor_cannot_move_own_practice_into_another_cluster(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:move_confirm", args=[roles.a_draft.pk, roles.b.pk])
    response = client.post(url)
    assert response.status_code in (302, 403)
    assert Page.objects.get(pk=roles.a_draft.pk).get_parent().pk == roles.a.pk


def test_cluster_editor_cannot_unpublish_or_delete_own_live_practice(roles, client):
    login(client, roles.editor_a)
    for name in ("wagtailadmin_pages:unpublish", "wagtailadmin_pages:delete"):
        response = client.post(reverse(name, args=[roles.a_live.pk]))
        assert response.status_code in (302, 403)
    assert Page.objects.get(pk=roles.a_live.pk).live


def admin_listings(roles):
    return [
        reverse("wagtailadmin_home"),
        reverse("wagtailadmin_explore", args=[roles.site["clusters"].pk]),
        reverse("wagtailadmin_explore", args=[roles.b.pk]),
        reverse("wagtailadmin_choose_page_child", args=[roles.b.pk]),
        reverse("wagtailadmin_choose_page_search") + "?q=Vojvodina",
        reverse("wagtailadmin_pages:search") + "?q=Vojvodina",
        reverse("wagtailadmin_reports:site_history"),
        reverse("wagtailadmin_reports:workflow"),
        reverse("wagtailadmin_reports:workflow_tasks"),
    ]


@pytest.mark.parametrize("who", ["editor_a", "moderator"])
def test_admin_listings_show_other_clusters_drafts_to_moderators_only(roles, client, who):
    login(Client(), roles.editor_b).post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        practice_form(roles.b_draft, **{"action-submit": "submit"}),
    )
    login(client, getattr(roles, who))
    shown = []
    for url in admin_listings(roles):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        if b"Vojvodina secret draft" in response.content:
            shown.append(url)
    if who == "editor_a":
        assert shown == []
        # Published pages of other clusters stay choosable (related practices, partners).
        chooser = client.get(reverse("wagtailadmin_choose_page_child", args=[roles.b.pk]))
        assert b"Vojvodina live practice" in chooser.content
    else:
        assert len(shown) == len(admin_listings(roles)) - 1  # the dashboard lists only one's own work


def test_own_cluster_drafts_remain_in_own_explorer(roles, client):
    login(client, roles.editor_a)
    response = client.get(reverse("wagtailadmin_explore", args=[roles.a.pk]))
    assert response.status_code == 200
    assert b"Cluj draft practice" in response.content


# Documents and images


def test_cluster_editor_uploads_into_own_collection_only(roles, client):
    login(client, roles.editor_a)
    url = reverse("wagtaildocs:add")
    response = client.get(url)
    assert response.status_code == 200
    assert b"Vojvodina ICT Cluster" not in response.content
    upload = ContentFile(PDF, name="report.pdf")
    client.post(url, {"title": "Into B", "file": upload, "collection": roles.coll_b.pk})
    assert not KBDocument.objects.filter(collection=roles.coll_b).exists()
    upload = ContentFile(PDF, name="report.pdf")
    response = client.post(url, {"title": "Into A", "file": upload, "collection": roles.coll_a.pk})
    assert response.status_code == 302
    assert KBDocument.objects.get(title="Into A").collection == roles.coll_a


def test_cluster_editor_cannot_edit_delete_or_open_other_clusters_document(roles, client):
    doc_b = document(roles.coll_b, "vojvodina-plan")
    doc_a = document(roles.coll_a, "cluj-plan")
    login(client, roles.editor_a)
    for name in ("wagtaildocs:edit", "wagtaildocs:delete"):
        assert client.get(reverse(name, args=[doc_b.pk])).status_code in (302, 403)
        client.post(reverse(name, args=[doc_b.pk]), {"title": "Renamed"})
    doc_b.refresh_from_db()
    assert doc_b.title == "vojvodina-plan"
    assert client.get(doc_b.url).status_code == 404
    for url in (reverse("wagtaildocs:index"), reverse("wagtaildocs_chooser:choose")):
        listing = client.get(url)
        assert b"vojvodina-plan" not in listing.content and b"cluj-plan" in listing.content
    assert client.get(doc_a.url).status_code == 200
    client.logout()
    assert client.get(doc_a.url).status_code == 404


def test_documents_of_live_public_pages_are_served_to_anyone(roles, client):
    doc = document(roles.coll_b, "vojvodina-public")
    page = PracticePage.objects.get(pk=roles.b_live.pk)
    page.attached_documents.create(document=doc)
    page.save_revision().publish()
    assert client.get(doc.url).status_code == 200
    login(client, roles.editor_a)
    assert client.get(doc.url).status_code == 200


def test_cluster_editor_uploads_images_into_own_collection_only(roles, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    def png(name):
        return SimpleUploadedFile(name, get_test_image_file().file.getvalue(), content_type="image/png")

    login(client, roles.editor_a)
    url = reverse("wagtailimages:add")
    response = client.get(url)
    assert response.status_code == 200
    assert b"Vojvodina ICT Cluster" not in response.content
    response = client.post(url, {"title": "Into B", "file": png("b.png"), "collection": roles.coll_b.pk})
    # With one collection to upload into, Wagtail drops the field: the posted collection is ignored.
    assert response.status_code in (200, 302)
    assert not get_image_model().objects.filter(collection=roles.coll_b).exists()
    assert set(get_image_model().objects.values_list("collection", flat=True)) <= {roles.coll_a.pk}
    response = client.post(url, {"title": "Into A", "file": png("a.png"), "collection": roles.coll_a.pk})
    assert response.status_code == 302
    assert get_image_model().objects.get(title="Into A").collection == roles.coll_a


def test_cluster_editor_cannot_edit_other_clusters_image(roles, client):
    from wagtail.images import get_image_model

    image = ImageFactory(title="vojvodina-logo", collection=roles.coll_b)
    login(client, roles.editor_a)
    assert client.get(reverse("wagtailimages:edit", args=[image.pk])).status_code in (302, 403)
    client.post(reverse("wagtailimages:delete", args=[image.pk]))
    assert get_image_model().objects.filter(pk=image.pk).exists()
    for url in (reverse("wagtailimages:index"), reverse("wagtailimages_chooser:choose")):
        assert b"vojvodina-logo" not in client.get(url).content
    login(client, roles.editor_b)
    assert b"vojvodina-logo" in client.get(reverse("wagtailimages_chooser:choose")).content


# Snippets and settings


def test_cluster_editor_cannot_change_industries_networks_or_settings(roles, client):
    network = NetworkFactory(name="BBS ICT Network")
    industry = Industry.objects.get(code="62")
    login(client, roles.editor_a)
    urls = [
        reverse("wagtailsnippets_practices_industry:edit", args=[industry.pk]),
        reverse("wagtailsnippets_practices_network:edit", args=[network.pk]),
        reverse("wagtailsnippets_practices_network:add"),
        reverse("wagtailusers_groups:index"),
        reverse("wagtailusers_users:index"),
        reverse("wagtailsites:index"),
        reverse("wagtailadmin_workflows:index"),
        reverse("wagtailsearchpromotions:index"),
    ]
    for url in urls:
        assert client.get(url).status_code in (302, 403), url
        client.post(url, {"name": "Changed"})
    assert Network.objects.get(pk=network.pk).name == "BBS ICT Network"
    assert Industry.objects.get(pk=industry.pk).name == industry.name
    assert Network.objects.count() == 1


def test_moderator_edits_snippets_but_not_groups(roles, client):
    network = NetworkFactory(name="BBS ICT Network")
    login(client, roles.moderator)
    url = reverse("wagtailsnippets_practices_network:edit", args=[network.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Balkan and Black Sea ICT Clusters Network"})
    assert response.status_code == 302
    assert Network.objects.get(pk=network.pk).name == "Balkan and Black Sea ICT Clusters Network"
    assert client.get(reverse("wagtailusers_groups:index")).status_code in (302, 403)


def test_admin_manages_groups(roles, client):
    login(client, roles.admin)
    assert client.get(reverse("wagtailusers_groups:edit", args=[roles.group_a.pk])).status_code == 200


# Moderators act on every cluster


def test_moderator_publishes_unpublishes_and_moves_any_practice(roles, client):
    login(client, roles.moderator)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        practice_form(roles.b_draft, **{"action-publish": "publish"}),
    )
    assert response.status_code == 302
    assert Page.objects.get(pk=roles.b_draft.pk).live

    response = client.post(reverse("wagtailadmin_pages:unpublish", args=[roles.b_live.pk]))
    assert response.status_code == 302
    assert not Page.objects.get(pk=roles.b_live.pk).live

    response = client.post(reverse("wagtailadmin_pages:move_confirm", args=[roles.b_draft.pk, roles.a.pk]))
    assert response.status_code == 302
    assert Page.objects.get(pk=roles.b_draft.pk).get_parent().pk == roles.a.pk


def test_moderator_cannot_change_the_clusters_of_the_tree_root(roles, client):
    # Page permissions stop at the tree: the root itself can't be deleted even by editors.
    login(client, roles.moderator)
    response = client.post(reverse("wagtailadmin_pages:delete", args=[Page.get_first_root_node().pk]))
    assert response.status_code in (302, 403)
    assert Page.objects.filter(depth=1).exists()


def test_practice_published_today_is_not_due_for_review(roles):
    due = review.practices_needing_review(today=datetime.date.today())
    assert roles.a_live.pk not in {p.pk for p in due}


# Chooser fields take any id: a document or image of another cluster is refused by the page form


def image(collection, title):

    return ImageFactory(title=title, collection=collection)


def cluster_form(cluster, **changes):
    data = {
        "title": cluster.title,
        "slug": cluster.slug,
        "kind": cluster.kind,
        "country": "",
        "city": "",
        "website": "",
        "description": rich_text(""),
        "logo": "",
        "comments": inline_formset([]),
    }
    data.update(changes)
    return nested_form_data(data)


def test_cluster_editor_cannot_attach_another_clusters_document_by_id(roles, client):
    doc_b = document(roles.coll_b, "vojvodina-plan")
    revision = Page.objects.get(pk=roles.a_draft.pk).latest_revision_id
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk])
    response = client.post(
        url, practice_form(roles.a_draft, attached_documents=inline_formset([{"document": doc_b.pk}]))
    )
    assert response.status_code == 200
    errors = response.context["form"].formsets["attached_documents"].forms[0].errors
    assert "is not available to you" in str(errors["document"])
    page = Page.objects.get(pk=roles.a_draft.pk)
    assert page.latest_revision_id == revision
    assert not page.specific.attached_documents.exists()
    assert b"vojvodina-plan" not in response.content

    doc_a = document(roles.coll_a, "cluj-plan")
    response = client.post(
        url, practice_form(roles.a_draft, attached_documents=inline_formset([{"document": doc_a.pk}]))
    )
    assert response.status_code == 302
    latest = Page.objects.get(pk=roles.a_draft.pk).get_latest_revision_as_object()
    assert [item.document_id for item in latest.attached_documents.all()] == [doc_a.pk]


def test_cluster_editor_cannot_link_or_embed_another_clusters_files_in_rich_text(roles, client):
    doc_b, image_b = document(roles.coll_b, "vojvodina-plan"), image(roles.coll_b, "vojvodina-logo")
    revision = Page.objects.get(pk=roles.a_draft.pk).latest_revision_id
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk])
    link = f'<p><a linktype="document" id="{doc_b.pk}">plan</a></p>'
    embed = f'<embed embedtype="image" id="{image_b.pk}" format="fullwidth" alt="logo"/>'
    response = client.post(
        url, practice_form(roles.a_draft, challenge=rich_text(link), results=rich_text(embed))
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "document" in str(errors["challenge"]) and "image" in str(errors["results"])
    assert Page.objects.get(pk=roles.a_draft.pk).latest_revision_id == revision


def test_cluster_editor_cannot_set_another_clusters_image_as_logo(roles, client):
    image_a, image_b = image(roles.coll_a, "cluj-logo"), image(roles.coll_b, "vojvodina-logo")
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[roles.a.pk])
    response = client.post(url, cluster_form(roles.a, logo=image_b.pk))
    assert response.status_code == 200
    assert "is not available to you" in str(response.context["form"].errors["logo"])
    assert Page.objects.get(pk=roles.a.pk).get_latest_revision_as_object().logo_id is None
    response = client.post(url, cluster_form(roles.a, logo=image_a.pk))
    assert response.status_code == 302
    assert Page.objects.get(pk=roles.a.pk).get_latest_revision_as_object().logo_id == image_a.pk


def test_a_document_already_on_the_page_stays_when_a_cluster_editor_edits_it(roles, client):
    # A moderator attached a partner's document; the cluster editor may still revise the practice.
    doc_b = document(roles.coll_b, "vojvodina-plan")
    page = PracticePage.objects.get(pk=roles.a_draft.pk)
    item = PracticeDocumentFactory(page=page, document=doc_b)
    page = PracticePage.objects.get(pk=page.pk)
    page.save_revision()
    login(client, roles.editor_a)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        practice_form(
            page,
            title="Cluj draft, revised",
            attached_documents=inline_formset([{"id": item.pk, "document": doc_b.pk}], initial=1),
        ),
    )
    assert response.status_code == 302
    latest = Page.objects.get(pk=page.pk).get_latest_revision_as_object()
    assert latest.title == "Cluj draft, revised"
    assert [i.document_id for i in latest.attached_documents.all()] == [doc_b.pk]


def test_moderator_may_choose_any_clusters_document(roles, client):
    doc_b = document(roles.coll_b, "vojvodina-plan")
    login(client, roles.moderator)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.a_draft.pk]),
        practice_form(roles.a_draft, attached_documents=inline_formset([{"document": doc_b.pk}])),
    )
    assert response.status_code == 302
    latest = Page.objects.get(pk=roles.a_draft.pk).get_latest_revision_as_object()
    assert [i.document_id for i in latest.attached_documents.all()] == [doc_b.pk]
