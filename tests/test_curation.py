"""Curation by the knowledge-base editors: featured practices, themes, promoted results, the audit log
and the "needs review" report; cluster editors are kept out of each."""

import datetime

import pytest

from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import GroupPagePermission, ModelLogEntry, Page, PageLogEntry, Revision, WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from practices import audit, review
from practices.factories import ThemePageFactory, UserFactory
from practices.models import HomePage, PracticePage, ThemePage
from tests import test_permissions
from tests.roles import published
from tests.test_permissions import login


def home_form(home, featured):
    return nested_form_data(
        {
            "title": home.title,
            "slug": home.slug,
            "intro": rich_text(""),
            "featured": inline_formset([{"page": page.pk} for page in featured]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )


def theme_form(title, slug, items):
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "introduction": rich_text("<p>Farms and software houses working together.</p>"),
            "items": inline_formset([{"item": page.pk} for page in items]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )


# Featured practices


def test_moderator_chooses_featured_practices_in_order(roles, client):
    home = roles.site["home"]
    login(client, roles.moderator)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[home.pk]), home_form(home, [roles.b_live, roles.a_live])
    )
    assert response.status_code == 302
    home = HomePage.objects.get(pk=home.pk)
    assert [p.pk for p in home.featured_pages()] == [roles.b_live.pk, roles.a_live.pk]
    client.logout()
    page = client.get(home.url).content.decode()
    assert page.index("Vojvodina live practice") < page.index("Cluj live practice")


def test_cluster_editor_cannot_feature_practices(roles, client):
    home = roles.site["home"]
    login(client, roles.editor_a)
    url = reverse("wagtailadmin_pages:edit", args=[home.pk])
    assert client.get(url).status_code in (302, 403)
    response = client.post(url, home_form(home, [roles.a_live]))
    assert response.status_code in (302, 403)
    assert HomePage.objects.get(pk=home.pk).featured.count() == 0


# Themes


def test_moderator_creates_and_publishes_a_theme(roles, client):
    login(client, roles.moderator)
    url = reverse("wagtailadmin_pages:add", args=("practices", "themepage", roles.site["themes"].pk))
    response = client.post(url, theme_form("Agritech partnerships", "agritech", [roles.a_live, roles.b_live]))
    assert response.status_code == 302
    theme = ThemePage.objects.get(slug="agritech")
    assert theme.live
    assert [p.pk for p in theme.live_items()] == [roles.a_live.pk, roles.b_live.pk]
    client.logout()
    assert b"Cluj live practice" in client.get(theme.url).content


def test_cluster_editor_cannot_add_or_edit_themes(roles, client):
    theme = ThemePageFactory(parent=roles.site["themes"], title="Agritech partnerships", slug="agritech")
    login(client, roles.editor_a)
    add = reverse("wagtailadmin_pages:add", args=("practices", "themepage", roles.site["themes"].pk))
    edit = reverse("wagtailadmin_pages:edit", args=[theme.pk])
    for url, data in (
        (add, theme_form("Mine", "mine", [roles.a_live])),
        (edit, theme_form("Mine", "agritech", [])),
    ):
        assert client.get(url).status_code in (302, 403)
        assert client.post(url, data).status_code in (302, 403)
    assert not ThemePage.objects.filter(slug="mine").exists()
    assert ThemePage.objects.get(pk=theme.pk).title == "Agritech partnerships"


# Promoted search results


def test_moderator_manages_promoted_results_and_cluster_editor_cannot(roles, client):
    data = {
        "query_string": "drones",
        "editors_picks-TOTAL_FORMS": "1",
        "editors_picks-INITIAL_FORMS": "0",
        "editors_picks-MIN_NUM_FORMS": "0",
        "editors_picks-MAX_NUM_FORMS": "1000",
        "editors_picks-0-page": str(roles.a_live.pk),
        "editors_picks-0-description": "",
        "editors_picks-0-ORDER": "0",
        "editors_picks-0-external_link_text": "",
        "editors_picks-0-external_link_url": "",
    }
    login(client, roles.editor_a)
    assert client.get(reverse("wagtailsearchpromotions:index")).status_code in (302, 403)
    client.post(reverse("wagtailsearchpromotions:add"), data)
    assert not SearchPromotion.objects.exists()

    login(client, roles.moderator)
    assert client.get(reverse("wagtailsearchpromotions:index")).status_code == 200
    response = client.post(reverse("wagtailsearchpromotions:add"), data)
    assert response.status_code == 302
    promotion = SearchPromotion.objects.get()
    assert promotion.query == Query.get("drones") and promotion.page_id == roles.a_live.pk


# Audit log


def test_publish_unpublish_and_move_are_in_the_audit_log(roles, client):
    login(client, roles.moderator)
    client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        test_permissions.practice_form(roles.b_draft, **{"action-publish": "publish"}),
    )
    client.post(reverse("wagtailadmin_pages:unpublish", args=[roles.b_draft.pk]))
    client.post(reverse("wagtailadmin_pages:move_confirm", args=[roles.b_draft.pk, roles.a.pk]))
    entries = PageLogEntry.objects.filter(page=roles.b_draft, user=roles.moderator)
    assert {"wagtail.publish", "wagtail.unpublish", "wagtail.move"} <= set(
        entries.values_list("action", flat=True)
    )


def test_group_permission_changes_through_the_admin_are_logged(roles, client):
    publish = Permission.objects.get(content_type__app_label="wagtailcore", codename="publish_page")
    empty = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}
    data = {"name": "Guest reviewers", "permissions": []}
    for prefix in ("collection_permissions", "document_permissions", "image_permissions"):
        data.update({f"{prefix}-{key}": value for key, value in empty.items()})
    data.update(
        {
            "page_permissions-TOTAL_FORMS": "1",
            "page_permissions-INITIAL_FORMS": "0",
            "page_permissions-MIN_NUM_FORMS": "0",
            "page_permissions-MAX_NUM_FORMS": "1000",
            "page_permissions-0-page": str(roles.a.pk),
            "page_permissions-0-permissions": ["publish_page"],
        }
    )
    login(client, roles.moderator)
    client.post(reverse("wagtailusers_groups:add"), data)
    assert not Group.objects.filter(name="Guest reviewers").exists()

    login(client, roles.admin)
    response = client.post(reverse("wagtailusers_groups:add"), data)
    assert response.status_code == 302
    group = Group.objects.get(name="Guest reviewers")
    assert GroupPagePermission.objects.filter(group=group, page=roles.a, permission=publish).exists()
    logged = ModelLogEntry.objects.get(
        object_id=str(group.pk), action=audit.PERMISSIONS_CHANGED, user=roles.admin
    )
    assert logged.data == {"granted": [f"page {roles.a.pk}: publish_page"], "revoked": []}

    # An edit that takes the right away again is logged as a revocation.
    data.update({"page_permissions-TOTAL_FORMS": "0"})
    for key in ("page_permissions-0-page", "page_permissions-0-permissions"):
        del data[key]
    response = client.post(reverse("wagtailusers_groups:edit", args=[group.pk]), data)
    assert response.status_code == 302
    assert not GroupPagePermission.objects.filter(group=group).exists()
    revoked = ModelLogEntry.objects.filter(object_id=str(group.pk), action=audit.PERMISSIONS_CHANGED)
    assert [entry.data["revoked"] for entry in revoked.order_by("timestamp", "pk")][-1] == [
        f"page {roles.a.pk}: publish_page"
    ]


def test_group_membership_and_setup_grants_are_logged(roles):
    roles.editor_b.groups.add(roles.group_a)
    roles.group_a.user_set.remove(roles.editor_a)
    entries = ModelLogEntry.objects.filter(object_id=str(roles.group_a.pk), action=audit.PERMISSIONS_CHANGED)
    datas = [entry.data for entry in entries]
    assert {"added": ["editor_b"]} in datas and {"removed": ["editor_a"]} in datas
    grants = entries.filter(data__revoked=[]).first()
    assert f"page {roles.a.pk}: change_page" in grants.data["granted"]


def test_the_django_admin_is_not_mounted(roles, client):
    # Its group and user forms would change permissions outside Wagtail's audit log.
    login(client, roles.admin)
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/auth/group/").status_code == 404


def test_making_a_user_an_administrator_is_logged(roles, client):
    user = roles.editor_a
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "Ana",
        "last_name": "Pop",
        "password1": "",
        "password2": "",
        "is_active": "on",
        "groups": [roles.group_a.pk],
    }
    url = reverse("wagtailusers_users:edit", args=[user.pk])
    login(client, roles.moderator)
    client.post(url, {**data, "is_superuser": "on"})
    assert not type(user).objects.get(pk=user.pk).is_superuser

    login(client, roles.admin)
    response = client.post(url, {**data, "is_superuser": "on"})
    assert response.status_code == 302
    assert type(user).objects.get(pk=user.pk).is_superuser
    response = client.post(url, data)
    assert response.status_code == 302
    entries = ModelLogEntry.objects.for_instance(user).filter(action=audit.PERMISSIONS_CHANGED)
    assert [(e.data, e.user) for e in entries.order_by("timestamp", "pk")] == [
        ({"superuser": "granted"}, roles.admin),
        ({"superuser": "revoked"}, roles.admin),
    ]
    # A name change alone is no permission change.
    client.post(url, {**data, "first_name": "Anca"})
    assert entries.count() == 2


def test_a_users_own_permissions_are_logged(roles):
    user = roles.editor_a
    publish = Permission.objects.get(content_type__app_label="wagtailcore", codename="publish_page")
    user.user_permissions.add(publish)
    publish.user_set.remove(user)
    user.user_permissions.add(publish)
    user.user_permissions.clear()
    entries = ModelLogEntry.objects.for_instance(user).filter(action=audit.PERMISSIONS_CHANGED)
    line = "model: wagtailcore.publish_page"
    assert [e.data for e in entries.order_by("timestamp", "pk")] == [
        {"granted": [line]},
        {"revoked": [line]},
        {"granted": [line]},
        {"revoked": [line]},
    ]


# The "needs review" report


def set_reviewed(page, when):
    PracticePage.objects.filter(pk=page.pk).update(last_reviewed_at=when)


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (datetime.date(2025, 6, 15), 12, datetime.date(2024, 6, 15)),
        (datetime.date(2025, 3, 31), 1, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 3, 31), 1, datetime.date(2024, 2, 29)),
        (datetime.date(2025, 1, 10), 13, datetime.date(2023, 12, 10)),
        (datetime.date(2025, 1, 10), 0, datetime.date(2025, 1, 10)),
    ],
)
def test_review_cutoff_counts_calendar_months(today, months, cutoff):
    assert review.review_cutoff(today, months) == cutoff


def test_needs_review_report_lists_stale_practices_with_their_cluster(roles, client):
    today = timezone.localdate()
    stale = roles.a_live
    set_reviewed(stale, today - datetime.timedelta(days=400))
    set_reviewed(roles.b_live, today - datetime.timedelta(days=30))
    never_reviewed = published(roles.b, title="Old unreviewed practice")
    Page.objects.filter(pk=never_reviewed.pk).update(
        last_published_at=timezone.now() - datetime.timedelta(days=800)
    )

    login(client, roles.moderator)
    response = client.get(reverse("practices_needs_review"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cluj live practice" in html and "Cluj IT Cluster" in html
    assert "Old unreviewed practice" in html and "Vojvodina ICT Cluster" in html
    assert "Vojvodina live practice" not in html
    # Oldest first.
    assert html.index("Old unreviewed practice") < html.index("Cluj live practice")

    # A cluster editor sees only their own cluster's.
    login(client, roles.editor_b)
    html = client.get(reverse("practices_needs_review")).content.decode()
    assert "Old unreviewed practice" in html and "Cluj live practice" not in html


def test_needs_review_period_comes_from_settings(roles, settings):
    set_reviewed(roles.a_live, timezone.localdate() - datetime.timedelta(days=400))
    settings.KB_REVIEW_AFTER_MONTHS = 24
    assert not review.practices_needing_review().filter(pk=roles.a_live.pk).exists()
    settings.KB_REVIEW_AFTER_MONTHS = 12
    due = review.practices_needing_review().get(pk=roles.a_live.pk)
    assert due.cluster_title == "Cluj IT Cluster" and due.cluster_id == roles.a.pk


def test_needs_review_report_exports_csv(roles, client):
    set_reviewed(roles.a_live, timezone.localdate() - datetime.timedelta(days=400))
    login(client, roles.moderator)
    response = client.get(reverse("practices_needs_review"), {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "Cluj live practice,Cluj IT Cluster" in body


def test_needs_review_report_is_closed_to_users_without_page_rights(roles, client):
    outsider = UserFactory(username="outsider")
    outsider.user_permissions.add(Permission.objects.get(codename="access_admin"))
    login(client, outsider)
    assert client.get(reverse("practices_needs_review")).status_code in (302, 403)


def test_a_practice_approved_in_review_leaves_the_needs_review_report(roles, client):
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    set_reviewed(roles.a_live, long_ago)
    login(client, roles.editor_a)
    edit = reverse("wagtailadmin_pages:edit", args=[roles.a_live.pk])
    client.post(edit, test_permissions.practice_form(roles.a_live, **{"action-submit": "submit"}))
    # Saving and submitting is not a review.
    assert PracticePage.objects.get(pk=roles.a_live.pk).last_reviewed_at == long_ago

    login(client, roles.moderator)
    assert "Cluj live practice" in client.get(reverse("practices_needs_review")).content.decode()
    state = WorkflowState.objects.get(object_id=str(roles.a_live.pk), status=WorkflowState.STATUS_IN_PROGRESS)
    response = client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[roles.a_live.pk, "approve", state.current_task_state.pk],
        ),
        {"comment": ""},
    )
    assert response.status_code == 302
    page = PracticePage.objects.get(pk=roles.a_live.pk)
    assert page.last_reviewed_at == timezone.localdate()
    assert "Cluj live practice" not in client.get(reverse("practices_needs_review")).content.decode()
    # Shown, read-only, on the practice's edit form.
    response = client.get(edit)
    assert "Last reviewed" in response.content.decode()
    assert "last_reviewed_at" not in response.context["form"].fields


def test_a_moderator_publishing_marks_reviewed_and_older_revisions_keep_the_date(roles, client):
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    set_reviewed(roles.b_draft, long_ago)
    older = PracticePage.objects.get(pk=roles.b_draft.pk).save_revision()
    login(client, roles.moderator)
    client.post(
        reverse("wagtailadmin_pages:edit", args=[roles.b_draft.pk]),
        test_permissions.practice_form(roles.b_draft, **{"action-publish": "publish"}),
    )
    assert PracticePage.objects.get(pk=roles.b_draft.pk).last_reviewed_at == timezone.localdate()
    # Publishing without a user (the scheduler, an import) is no review, and doesn't roll the date back.
    set_reviewed(roles.b_draft, long_ago + datetime.timedelta(days=1))
    Revision.objects.get(pk=older.pk).publish()
    assert PracticePage.objects.get(pk=roles.b_draft.pk).last_reviewed_at == long_ago + datetime.timedelta(
        days=1
    )
