"""Issue 14, "Leaks" in the admin: a cluster's editor sees of other clusters only what the public sees.

Each test failed on commit 6220413 and passes now.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse

from wagtail.models import Page

from practices import permissions
from practices.factories import (
    ClusterPageFactory,
    ImageFactory,
    KBDocumentFactory,
    PracticeDocumentFactory,
    PracticePageFactory,
    UserFactory,
    make_site,
)

pytestmark = pytest.mark.django_db

SECRETS = ("Zqrenamed", "Zqdraft", "Zqunpublished", "zqdrafttag", "zqhidden-file", "zqloose-image")


@pytest.fixture(scope="module")
def admin_kb_data(shared_db):
    permissions.connect_signals()
    site = make_site()
    a = ClusterPageFactory(parent=site["clusters"], title="Cluj IT Cluster", slug="cluj")
    b = ClusterPageFactory(parent=site["clusters"], title="Vojvodina ICT Cluster", slug="vojvodina")
    c = ClusterPageFactory(parent=site["clusters"], title="Zqunpublished Cluster", slug="unpublished")
    for cluster in (a, b, c):
        cluster.save_revision().publish()
    permissions.setup_roles()
    Page.objects.get(pk=c.pk).unpublish()
    a_live = PracticePageFactory(parent=a, title="Cluj live practice", slug="cluj-live")
    a_live.save_revision().publish()
    b_live = PracticePageFactory(parent=b, title="Vojvodina live practice", slug="voj-live")
    b_live.save_revision().publish()
    b_live.title = "Vojvodina Zqrenamed practice"
    b_live.save_revision()  # an unpublished change of a live page
    b_draft = PracticePageFactory(parent=b, title="Vojvodina Zqdraft", slug="voj-draft", live=False)
    b_draft.tags.add("zqdrafttag")
    b_draft.save()
    b_draft.save_revision()
    coll_b = permissions.cluster_collection(b)
    hidden_doc = KBDocumentFactory(
        title="zqhidden-file", collection=coll_b, file=ContentFile(b"%PDF-1.4", name="hidden.pdf")
    )
    PracticeDocumentFactory(page=b_draft, document=hidden_doc)
    ImageFactory(title="zqloose-image", collection=coll_b)
    editor = UserFactory(username="editor_a", groups=[permissions.cluster_group(a)])
    moderator = UserFactory(username="moderator", groups=[Group.objects.get(name=permissions.MODERATORS)])
    return SimpleNamespace(
        a=a, b=b, c=c, a_live=a_live, b_live=b_live, b_draft=b_draft, editor=editor, moderator=moderator
    )


@pytest.fixture
def admin_kb(admin_kb_data, db, client):
    data = copy.deepcopy(admin_kb_data)
    client.force_login(data.editor)
    return data


def assert_no_secret(text: str):
    for secret in SECRETS:
        assert secret not in text, secret


def test_chosen_multiple_answers_only_for_pages_the_editor_may_see(client, admin_kb):
    ids = [admin_kb.b_draft.pk, admin_kb.c.pk, admin_kb.b_live.pk, admin_kb.a_live.pk]
    response = client.get("/admin/choose-page/chosen-multiple/", {"id": ids})
    assert response.status_code == 200
    result = json.loads(response.content)["result"]
    assert {r["id"] for r in result} == {admin_kb.b_live.pk, admin_kb.a_live.pk}
    assert {r["adminTitle"] for r in result} == {"Vojvodina live practice", "Cluj live practice"}


def test_page_chooser_browse_and_search_show_live_titles_of_other_clusters(client, admin_kb):
    browse = client.get(reverse("wagtailadmin_choose_page_child", args=(admin_kb.b.pk,)))
    assert browse.status_code == 200 and "Vojvodina live practice" in browse.content.decode()
    assert_no_secret(browse.content.decode())
    clusters = client.get(reverse("wagtailadmin_choose_page_child", args=(admin_kb.c.get_parent().pk,)))
    assert_no_secret(clusters.content.decode())
    for q in ("Vojvodina", "Zqrenamed", "Zqdraft"):
        search = client.get(reverse("wagtailadmin_choose_page_search"), {"q": q})
        assert search.status_code == 200
        assert_no_secret(search.content.decode())


def test_bulk_action_confirmation_shows_the_live_title(client, admin_kb):
    url = (
        reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish")) + f"?id={admin_kb.b_live.pk}"
    )
    response = client.get(url)
    assert response.status_code == 200
    assert "Vojvodina live practice" in response.content.decode()
    assert_no_secret(response.content.decode())


def test_page_types_usage_report_is_for_knowledge_base_editors(client, admin_kb):
    url = reverse("wagtailadmin_reports:page_types_usage")
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert_no_secret(response.content.decode())
    client.force_login(admin_kb.moderator)
    assert client.get(url).status_code == 200


def test_admin_api_lists_own_and_public_files_only(client, admin_kb):
    for kind in ("documents", "images"):
        response = client.get(f"/admin/api/main/{kind}/")
        assert response.status_code == 200
        assert_no_secret(response.content.decode())
    client.force_login(admin_kb.moderator)
    assert "zqhidden-file" in client.get("/admin/api/main/documents/").content.decode()


def test_tag_autocomplete_offers_only_visible_or_own_tags(client, admin_kb):
    assert json.loads(client.get("/admin/tag-autocomplete/", {"term": "zq"}).content) == []
    admin_kb.a_live.tags.add("zqowntag")
    admin_kb.a_live.save()
    assert json.loads(client.get("/admin/tag-autocomplete/", {"term": "zq"}).content) == ["zqowntag"]
    client.force_login(admin_kb.moderator)
    assert "zqdrafttag" in json.loads(client.get("/admin/tag-autocomplete/", {"term": "zq"}).content)


def test_partner_clusters_field_offers_only_visible_clusters(client, admin_kb):
    response = client.get(reverse("wagtailadmin_pages:edit", args=(admin_kb.a_live.pk,)))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vojvodina ICT Cluster" in html
    assert_no_secret(html)
