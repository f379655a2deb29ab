"""Browse and act in a real browser: the country map filters the search, the contact form sends and
refuses a second burst, and industry browse on the real corpus agrees with the search's facet."""

import re

import pytest

from django.core import mail

from kb import ratelimit
from practices import ce_source
from practices.factories import ClusterPageFactory, PracticePageFactory, make_site
from practices.imports.importer import Importer
from practices.models import PracticePage
from search import service
from search.query import Query
from tests.browser import browser_page, needs_chromium
from tests.test_browser_search import build, total

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = {"phone": (390, 844), "desk": (1280, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_clicking_a_country_on_the_map_filters_the_search_keeping_the_query(live_server, monkeypatch, size):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    build()
    with browser_page() as page:
        page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
        page.goto(live_server.url + "/search/?q=sensors&industry=J")
        assert total(page) == 2
        serbia = page.locator("svg a[aria-label='Serbia: 1']")
        serbia.scroll_into_view_if_needed()
        with page.expect_navigation():
            serbia.locator("path").click()
        assert re.search(r"[?&]country=RS", page.url) and "q=sensors" in page.url and "industry=J" in page.url
        assert total(page) == 1
        assert page.inner_text("ol.hits .hit-title") == "Air quality sensors in Novi Sad"
        # From the home page, a country opens the search filtered by it alone.
        page.goto(live_server.url + "/")
        romania = page.locator("svg a[aria-label='Romania: 3']")
        romania.scroll_into_view_if_needed()
        with page.expect_navigation():
            romania.locator("path").click()
        assert page.url.endswith("/search/?country=RO") and total(page) == 3
        assert page.kb_errors == [], page.kb_errors


def send(page, message: str) -> None:
    page.fill("#id_name", "Marko Marković")
    page.fill("#id_email", "marko@example.net")
    page.fill("#id_message", message)
    with page.expect_navigation():
        page.click("text=Send message")


def test_the_contact_form_sends_and_refuses_a_second_burst(live_server, monkeypatch, settings):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.KB_CONTACT_MESSAGES_PER_HOUR = 1
    ratelimit.reset()
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", country="RO")
    practice = PracticePageFactory(
        parent=cluster, title="Shared test lab", contact_name="Ana Pop", contact_email="lab@cluj.example.org"
    )
    practice.save_revision().publish()
    mail.outbox = []
    with browser_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + practice.url)
        assert "lab@cluj.example.org" not in page.content()
        send(page, "Could we visit your lab in May?")
        assert "your message has been sent to Ana Pop" in page.inner_text("#contact")
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lab@cluj.example.org"]
        assert mail.outbox[0].reply_to == ["marko@example.net"]

        page.goto(live_server.url + practice.url)
        send(page, "And a second message straight after.")
        assert "You have sent 1 message in the last hour" in page.inner_text("#contact")
        assert page.input_value("#id_message") == "And a second message straight after."
        assert len(mail.outbox) == 1
        # The refusal is a 429, which the browser logs; nothing else went wrong.
        assert [e for e in page.kb_errors if "429" not in e] == [], page.kb_errors
    ratelimit.reset()


def pill(locator) -> int:
    """The number a count pill shows (it also says "results" to screen readers)."""
    return int(locator.inner_text().split()[0])


def test_industry_browse_on_the_real_corpus_lists_the_digital_and_ict_practices(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_site()
    records = list(ce_source.records())
    Importer(publish=True, batch_size=1000).run(enumerate(records, start=1))
    service.reset_engine()
    service.rebuild(progress=False)
    digital = {
        r["external_id"] for r in records if {"Digital solutions", "Electronics and ICT"} & set(r["tags"])
    }
    facet = {c.value: c.count for c in service.search(Query()).facets["industry"]}
    assert facet["J"] == len(digital)
    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live_server.url + "/industries/")
        section = page.locator(
            "li.industry-section", has=page.locator("h2", has_text="Information and communication")
        )
        shown = pill(section.locator("h2 .count-pill"))
        assert shown == facet["J"]
        # Divisions show the facet's counts too; an empty one is no link.
        row_62 = section.locator("li", has_text="Computer programming")
        assert pill(row_62.locator(".count-pill")) == facet["62"]
        assert section.locator("li.is-empty a").count() == 0
        accommodation = page.locator("li.industry-section", has=page.locator("h2", has_text="Accommodation"))
        assert pill(accommodation.locator("h2 .count-pill")) == 0
        assert accommodation.locator("h2 a").count() == 0
        with page.expect_navigation():
            section.locator("h2 a").click()
        assert page.url.endswith("/search/?industry=J") and total(page) == facet["J"]
        assert (
            int(page.inner_text("fieldset[data-facet=industry] label:has(input[value=J]) [data-count]"))
            == shown
        )
    # Those listed are exactly the real practices whose sectors are digital or ICT.
    listed = service.search(Query(filters={"industry": ("J",)}, per_page=500, with_facets=False)).hits
    ids = PracticePage.objects.filter(pk__in=[h.page_id for h in listed]).values_list(
        "external_id", flat=True
    )
    assert set(ids) == digital
