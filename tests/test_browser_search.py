import pytest

from practices.factories import ClusterPageFactory, PracticePageFactory, make_site
from practices.models import Industry
from search import service
from tests.browser import browser_page, needs_chromium

# serialized_rollback: the flush after a transactional test would take the root page and the NACE
# industries made by migrations away from the tests that follow.
pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# (title, industry section, country)
PRACTICES = [
    ("Traffic sensors in Cluj", "J", "RO"),
    ("Air quality sensors in Novi Sad", "J", "RS"),
    ("Sensors for factory machines", "C", "RS"),
    ("Sensors in waste bins", "E", "RO"),
    ("Textile sensors for sportswear", "C", "RO"),
    ("Water leak sensors", "E", "RS"),
]


def build():
    tree = make_site()
    clusters = {
        "RO": ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", country="RO"),
        "RS": ClusterPageFactory(parent=tree["clusters"], title="Vojvodina ICT Cluster", country="RS"),
    }
    for title, section, country in PRACTICES:
        page = PracticePageFactory(
            parent=clusters[country], title=title, summary=f"{title}: a shared practice.", countries=[country]
        )
        page.industries.set([Industry.objects.get(code=section)])
        page.save_revision().publish()
    service.reset_engine()
    service.rebuild(progress=False)


def total(page) -> int:
    return int(page.inner_text("#total"))


def count(page, facet: str, value: str) -> int:
    return int(page.inner_text(f"fieldset[data-facet={facet}] label:has(input[value={value}]) [data-count]"))


def tick(page, facet: str, value: str) -> None:
    # The results update in place: wait until the ticked value is in the address.
    page.check(f"fieldset[data-facet={facet}] input[value={value}]")
    page.wait_for_url(f"**{facet}={value}**")
    page.wait_for_selector(f"fieldset[data-facet={facet}] input[value={value}]:checked")


def test_search_narrow_by_two_industries_and_a_country_then_open_a_hit(live_server, monkeypatch):
    # Set here so it is unset again afterwards: a later `check --deploy` subprocess must not inherit it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    build()
    with browser_page() as page:
        page.goto(live_server.url + "/search/")
        page.fill("#q", "sensors")
        page.press("#q", "Enter")
        page.wait_for_url("**q=sensors**")
        assert total(page) == 6
        assert count(page, "country", "RS") == 3

        tick(page, "industry", "J")
        assert total(page) == 2
        # Counts of the other industries ignore the industry filter (OR within a facet).
        assert count(page, "industry", "C") == 2
        assert count(page, "country", "RS") == 1

        tick(page, "industry", "C")
        assert total(page) == 4
        assert count(page, "country", "RS") == 2
        assert count(page, "country", "RO") == 2

        tick(page, "country", "RS")
        assert total(page) == 2
        assert page.is_checked("fieldset[data-facet=industry] input[value=J]")
        assert page.is_checked("fieldset[data-facet=industry] input[value=C]")
        titles = page.locator("ol.hits h3 a").all_inner_texts()
        assert sorted(titles) == ["Air quality sensors in Novi Sad", "Sensors for factory machines"]
        # Every state is in the URL, so the search can be shared.
        assert "industry=J" in page.url and "industry=C" in page.url and "country=RS" in page.url

        first = titles[0]
        with page.expect_navigation():
            page.click("ol.hits h3 a >> nth=0")
        assert page.get_by_role("heading", level=1).inner_text() == first
        assert page.kb_errors == [], page.kb_errors
