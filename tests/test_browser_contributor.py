"""A new cluster editor publishes a practice through the real admin, from the set-password link to the
public search, and the number of page loads it takes is counted and printed."""

import io
import re
from contextlib import redirect_stdout

import pytest

from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from wagtail.models import WorkflowState

from practices import permissions
from practices.factories import ClusterPageFactory, EventPageFactory, UserFactory, make_site
from practices.models import PracticePage
from search import service
from tests.browser import browser_page, needs_chromium
from tests.practices.files import write_pdf

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EMAIL = "ana.editor@example.org"
PASSWORD = "Danube-practice-2026"
PDF_WORD = "zeolitefiltration"  # only in the PDF


def build():
    permissions.connect_signals()
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Vojvodina ICT Cluster", slug="vojvodina")
    cluster.save_revision().publish()
    EventPageFactory(parent=tree["events"], title="Cluster meeting", slug="meeting").save_revision().publish()
    permissions.setup_roles()
    moderator = UserFactory(username="moderator", groups=[permissions.ensure_moderators()])
    service.reset_engine()
    service.rebuild(progress=False)
    out = io.StringIO()
    with redirect_stdout(out):
        call_command("add_cluster_editor", "vojvodina", EMAIL, stdout=out)
    link = re.search(r"http\S+", out.getvalue()).group(0)
    return cluster, moderator, link


def tick(page, field, words, label):
    search = page.locator(f"#id_{field}-find")
    search.fill(words)
    option = page.locator(f"#id_{field} label.kb-checklist__item:visible", has_text=label)
    option.locator("input").check()
    page.wait_for_selector(f"#id_{field} [data-kb-chosen] .kb-chip--removable:has-text('{label}')")


def test_new_cluster_editor_publishes_a_practice_with_a_pdf(live_server, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.KB_BASE_URL = settings.WAGTAILADMIN_BASE_URL = live_server.url
    cluster, moderator, link = build()
    assert link.startswith(live_server.url + "/admin/password_reset/")
    pdf = write_pdf(tmp_path / "vojvodina_practice.pdf", [[f"Water {PDF_WORD} for small farms."]])

    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        failed, loads, bad = [], [], []
        page.on("response", lambda r: r.status >= 400 and bad.append(r))
        page.on(
            "response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.request.method} {r.url}")
        )
        # The browser fetches a page's favicon on its own and cancels it when the next page loads
        # (net::ERR_ABORTED): not a failure of ours. Any other failed request is.
        page.on(
            "requestfailed",
            lambda r: (
                (r.failure == "net::ERR_ABORTED" and "favicon" in r.url)
                or failed.append(f"failed {r.method} {r.url} ({r.failure})")
            ),
        )
        # Page loads (documents loaded), not same-document history updates such as the editor's autosave.
        page.on("load", lambda p: loads.append(p.url))

        # The set-password link from add_cluster_editor.
        page.goto(link)
        page.fill("input[name=new_password1]", PASSWORD)
        page.fill("input[name=new_password2]", PASSWORD)
        with page.expect_navigation():
            page.locator("form button[type=submit], form input[type=submit]").last.click()

        # Sign in with the e-mail address: counting starts at the sign-in page.
        loads.clear()
        page.goto(live_server.url + "/admin/login/")
        assert "E-mail address" in page.inner_text("form")
        page.fill("input[name=username]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        page.wait_for_selector("text=Your cluster: Vojvodina ICT Cluster")
        # One published meeting: "Add presentation" goes straight to the add form under it.
        add_presentation = page.locator("a:has-text('Add presentation')")
        add_presentation_href = add_presentation.get_attribute("href")
        assert "/admin/pages/add/practices/presentationpage/" in add_presentation_href

        # The dashboard's "Add practice".
        with page.expect_navigation():
            page.click("a:has-text('Add practice')")
        page.fill("#id_title", "Water filters for small farms")
        page.fill("#id_summary", "Farmers in Vojvodina filter irrigation water with a shared design.")
        tick(page, "industries", "computer prog", "62 – Computer programming")
        tick(page, "industries", "telecom", "61 – Telecommunications")
        tick(page, "countries", "serb", "Serbia")

        # Upload a PDF through the documents chooser; its title is proposed in words.
        page.click("#id_attached_documents-OPEN_MODAL")
        page.locator(
            ".modal-dialog [role=tab]:has-text('Upload'), .modal-dialog a:has-text('Upload')"
        ).first.click()
        page.set_input_files(".modal-dialog input[type=file]", str(pdf))
        title = page.locator(".modal-dialog input[name$='title']")
        page.wait_for_function("el => el.value === 'Vojvodina practice'", arg=title.element_handle())
        page.locator(".modal-dialog form button[type=submit]").last.click()
        page.wait_for_selector("#id_attached_documents-FORMS :text('Vojvodina practice')")

        # Submit for review.
        page.locator("footer [data-w-dropdown-target='toggle']").first.click()
        with page.expect_navigation():
            page.click("button[name='action-submit']")
        submitted_loads = list(loads)

        practice = PracticePage.objects.get(title="Water filters for small farms")
        state = WorkflowState.objects.get(object_id=str(practice.pk))
        assert state.status == WorkflowState.STATUS_IN_PROGRESS
        assert sorted(i.code for i in practice.get_latest_revision_as_object().industries.all()) == [
            "61",
            "62",
        ]

        # In review: a read-only view with a banner, no editable form.
        page.goto(live_server.url + reverse("wagtailadmin_pages:edit", args=[practice.pk]))
        page.wait_for_selector("text=In review by knowledge-base editors since")
        assert page.locator("#page-edit-form").count() == 0
        assert page.locator("button:has-text('Withdraw from review to edit')").count() == 1

        # A knowledge-base editor approves.
        mail.outbox.clear()
        reviewer = Client()
        reviewer.force_login(moderator)
        response = reviewer.post(
            reverse(
                "wagtailadmin_pages:workflow_action",
                args=[practice.pk, "approve", state.current_task_state.pk],
            ),
            {"comment": ""},
        )
        assert response.status_code == 302
        practice.refresh_from_db()
        assert practice.live

        [published] = [m for m in mail.outbox if m.to == [EMAIL]]
        assert published.subject.startswith("Published:")
        assert f"{live_server.url}/clusters/vojvodina/water-filters-for-small-farms/" in published.body

        # The presentation form: its cluster chosen, no other offered.
        page.goto(live_server.url + add_presentation_href)
        assert page.locator("#id_presenting_cluster option").all_inner_texts() == ["Vojvodina ICT Cluster"]

        # A word only in the PDF finds the practice on /search/.
        page.goto(f"{live_server.url}/search/?q={PDF_WORD}")
        assert "Water filters for small farms" in page.inner_text("main")
        # The document's title in words is the public link text.
        page.goto(practice.full_url)
        assert page.locator("main a:has-text('Vojvodina practice')").count() == 1

        assert not failed, [failed, [r.text()[:600] for r in bad]]
        assert not page.kb_errors, page.kb_errors
    print(f"\nPage loads from sign-in to submitted: {len(submitted_loads)}: {submitted_loads}")
    # Before the dashboard had "Add practice" (55c4f24) the same steps made 5: sign-in, dashboard, the
    # cluster in the page explorer, its add form, the page after submitting (bench/editor_steps.py, README).
    assert len(submitted_loads) == 4
