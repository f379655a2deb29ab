import pytest

from django.core.management import call_command

from practices.models import EventPage, PresentationPage
from tests.browser import browser_page, needs_chromium

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_pages_open_in_a_real_browser_without_console_errors(live_server):
    call_command("load_demo")
    presentation = PresentationPage.objects.live().get(slug="example-agritech-partnerships")
    meeting = EventPage.objects.get(slug="strategic-ict-clusters-meeting-belgrade-2016")
    with browser_page() as page:
        page.goto(live_server.url + "/")
        assert page.get_by_role("heading", level=1).first.inner_text().startswith("Danube ICT")
        assert page.get_by_role("search").first.is_visible()

        page.goto(live_server.url + presentation.url)
        assert page.get_by_role("heading", level=1).inner_text() == presentation.title
        assert "Example content" in page.content()

        page.goto(live_server.url + meeting.url)
        assert "Art Hotel Belgrade" in page.inner_text("main")
        assert "Sebastiano Toffaletti" in page.inner_text("main")

        page.goto(live_server.url + "/admin/login/")
        assert page.locator("input[name=username]").is_visible()
        assert page.kb_errors == [], page.kb_errors
