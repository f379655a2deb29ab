"""The admin, signed in, under its Content-Security-Policy: no violation, no console error."""

import pytest

from django.core.management import call_command

from practices.factories import PracticePageFactory, UserFactory
from practices.models import ClusterPage
from tests.browser import browser_page, needs_chromium

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_browser_harness_records_csp_violations():
    with browser_page() as page:
        page.set_content(
            "<html><head><meta http-equiv='Content-Security-Policy' content=\"script-src 'self'\"></head>"
            "<body><script>document.title = 'ran'</script></body></html>"
        )
        assert page.title() != "ran"
        assert any("Content Security Policy" in e for e in page.kb_errors), page.kb_errors


def test_admin_pages_open_signed_in_without_csp_violations(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("load_demo")
    UserFactory(username="root", password="a-long-test-password", superuser=True)
    # The demo has no practice of its own (the real ones are imported by make run): one example here.
    cluster = ClusterPage.objects.get(title="Example Cluster")
    practice = PracticePageFactory(parent=cluster, title="Example: a practice for the admin test")
    with browser_page() as page:
        page.goto(live_server.url + "/admin/login/")
        page.fill("input[name=username]", "root")
        page.fill("input[name=password]", "a-long-test-password")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url.rstrip("/").endswith("/admin")
        for path in (
            "/admin/",
            f"/admin/pages/{practice.get_parent().pk}/",
            f"/admin/pages/{practice.pk}/edit/",
            "/admin/documents/",
            "/admin/documents/multiple/add/",
            "/admin/images/",
            "/admin/reports/site-history/",
            "/admin/users/",
        ):
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert "unsafe-inline" in response.headers["content-security-policy"]
        # The public site, seen by a signed-in editor (Wagtail's user bar), keeps the strict policy.
        response = page.goto(live_server.url + practice.url)
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.kb_errors == [], page.kb_errors
