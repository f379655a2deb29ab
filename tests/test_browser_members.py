"""The search page as a member uses it, on a phone (390 x 844) and a desk (1280 px), in Chromium;
and axe-core over the pages members see."""

from __future__ import annotations

import pytest

from tests.a11y import violations
from tests.browser import browser_page, needs_chromium, shared_live_site
from tests.members import build_site

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    # The module's site is committed once (shared_live_site); serialized_rollback has the migrated
    # content serialized so that it can be given back afterwards.
    pytest.mark.django_db(serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def members_site(django_db_setup, django_db_blocker, shared_dirs):
    """The site is only read through the browser: built and served once for the module."""
    with shared_live_site(django_db_blocker) as url:
        data = build_site()
        data["url"] = url
        yield data


def total(page) -> int:
    return int(page.inner_text("#total"))


def mark_document(page) -> None:
    """A flag that a full page load would lose: proof that an update happened in place."""
    page.evaluate("window.__kbSamePage = true")


def same_document(page) -> bool:
    return page.evaluate("window.__kbSamePage === true")


def wait_for_total_change(page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('#total') && +document.querySelector('#total').textContent !== n",
        arg=before,
    )


def test_phone_first_result_on_first_screen_and_filters_open_and_close(members_site):
    with browser_page() as page:
        page.set_viewport_size(PHONE)
        page.goto(members_site["url"] + "/search/?q=recycling")
        box = page.locator("#q").bounding_box()
        first = page.locator("ol.hits > li").first.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"]
        assert first["y"] + 60 <= PHONE["height"], first  # its type, title and a first line show
        panel = page.locator("#filters")
        toggle = page.locator("[data-filters-toggle]")
        assert not panel.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert panel.is_visible() and toggle.get_attribute("aria-expanded") == "true"
        # Ticking inside the open panel updates in place and the panel stays open.
        mark_document(page)
        before = total(page)
        page.locator("fieldset[data-facet=country] input[type=checkbox]").first.check()
        wait_for_total_change(page, before)
        assert same_document(page) and panel.is_visible()
        assert " ".join(page.inner_text("[data-filters-toggle]").split()) == "Filters (1)"
        page.click("[data-filters-close]")
        assert not panel.is_visible()
        assert page.locator("[data-filters-toggle]").get_attribute("aria-expanded") == "false"
        assert page.kb_errors == [], page.kb_errors


def test_desk_ticking_keeps_the_scroll_updates_the_url_and_back_undoes_it(members_site):
    with browser_page() as page:
        page.set_viewport_size(DESK)
        page.goto(members_site["url"] + "/search/?q=recycling")
        assert page.locator("#filters").is_visible()  # beside the results on a wide screen
        results = page.locator("#results").bounding_box()
        filters = page.locator("#filters").bounding_box()
        assert filters["x"] + filters["width"] <= results["x"]
        mark_document(page)
        country = page.locator("fieldset[data-facet=country]")
        country.scroll_into_view_if_needed()
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(200)
        y = page.evaluate("window.scrollY")
        assert y > 0
        before = total(page)
        value = country.locator("input[type=checkbox]").first.get_attribute("value")
        country.locator("input[type=checkbox]").first.check()
        wait_for_total_change(page, before)
        assert same_document(page)
        assert abs(page.evaluate("window.scrollY") - y) <= 2
        assert f"country={value}" in page.url
        assert page.locator(f"fieldset[data-facet=country] input[value={value}]").is_checked()
        # The focus stays on the box just ticked, for keyboard users.
        assert page.evaluate("document.activeElement.value") == value
        page.go_back()
        page.wait_for_function("n => +document.querySelector('#total').textContent === n", arg=before)
        assert f"country={value}" not in page.url
        assert not page.locator(f"fieldset[data-facet=country] input[value={value}]").is_checked()
        page.go_forward()
        page.wait_for_function("n => +document.querySelector('#total').textContent !== n", arg=before)
        assert f"country={value}" in page.url
        assert page.kb_errors == [], page.kb_errors


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_show_all_reveals_montenegro_and_the_filter_box_finds_it(members_site, viewport):
    with browser_page() as page:
        page.set_viewport_size(viewport)
        page.goto(members_site["url"] + "/search/")
        if viewport is PHONE:
            page.click("[data-filters-toggle]")
        montenegro = page.locator("fieldset[data-facet=country] input[value=ME]")
        assert not montenegro.is_visible()
        page.click("fieldset[data-facet=country] summary")
        assert montenegro.is_visible()
        for code in ("MT", "CH"):
            assert page.locator(f"fieldset[data-facet=country] input[value={code}]").is_visible()
        page.click("fieldset[data-facet=country] summary")  # closed again
        assert not montenegro.is_visible()
        page.fill("#filter-country", "monte")
        assert montenegro.is_visible()
        assert not page.locator("fieldset[data-facet=country] input[value=MT]").is_visible()
        mark_document(page)
        before = total(page)
        montenegro.check()
        wait_for_total_change(page, before)
        assert same_document(page) and "country=ME" in page.url
        # What was typed in the box survives the update.
        assert page.input_value("#filter-country") == "monte"
        assert page.locator("fieldset[data-facet=country] input[value=ME]").is_checked()
        assert page.kb_errors == [], page.kb_errors


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_a_chip_removes_its_filter_and_clear_all_removes_them_all(members_site, viewport):
    with browser_page() as page:
        page.set_viewport_size(viewport)
        page.goto(members_site["url"] + "/search/?q=recycling&country=IT&country=ES&type=practice")
        chips = page.locator("[data-chip]")
        assert chips.count() == 3
        box = chips.first.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24  # WCAG 2.2 target size
        mark_document(page)
        before = total(page)
        page.click("[data-chip='country:IT']")
        wait_for_total_change(page, before)
        assert same_document(page)
        assert "country=IT" not in page.url and "country=ES" in page.url
        assert page.locator("[data-chip]").count() == 2
        assert not page.locator("fieldset[data-facet=country] input[value=IT]").is_checked()
        page.click(".clear-all")
        page.wait_for_function("() => !document.querySelector('[data-chip]')")
        assert "country=" not in page.url and "q=recycling" in page.url
        assert page.kb_errors == [], page.kb_errors


def test_without_javascript_the_panel_opens_and_the_form_submits(members_site):
    with browser_page(viewport=PHONE, java_script_enabled=False) as page:
        page.goto(members_site["url"] + "/search/?q=recycling")
        assert not page.locator("#filters").is_visible()
        page.click("[data-filters-toggle]")  # a link to #filters, opened by CSS :target
        assert page.locator("#filters").is_visible()
        page.check("fieldset[data-facet=type] input[value=practice]")
        with page.expect_navigation():
            page.click("[data-apply]")
        assert "type=practice" in page.url and "q=recycling" in page.url
        assert page.locator("[data-chip='type:practice']").is_visible()


def test_checkboxes_and_page_links_are_at_least_24_px(members_site):
    with browser_page() as page:
        page.set_viewport_size(PHONE)
        page.goto(members_site["url"] + "/search/?q=recycling&page=1")
        page.click("[data-filters-toggle]")
        for selector in ("fieldset[data-facet=type] input", ".search-pages a", "[data-filters-toggle]"):
            box = page.locator(selector).first.bounding_box()
            assert box["width"] >= 24 and box["height"] >= 24, (selector, box)


def test_axe_finds_no_serious_violation_on_the_pages_members_see(members_site):
    from practices.models import ClusterPage, ContributeSettings, EventPage, PracticePage, PresentationPage

    # An editors' contact: a practice without one of its own shows the form that relays to them.
    editors = ContributeSettings.load()
    editors.contact_email = "kb-editors@example.org"
    editors.save()
    practice = PracticePage.objects.live().first()
    meeting = EventPage.objects.live().get(slug__startswith="strategic")
    presentation = PresentationPage.objects.live().first()
    cluster = ClusterPage.objects.live().get(slug="cluj-it-cluster")
    pages = [
        "/",
        "/search/?q=recycling&country=IT&industry=C",
        practice.url,
        meeting.url,
        presentation.url,
        "/industries/",
        cluster.url,
    ]
    found = {}
    with browser_page() as page:
        for viewport in (DESK, PHONE):
            page.set_viewport_size(viewport)
            for path in pages:
                page.goto(members_site["url"] + path)
                if path == practice.url:
                    assert page.locator("#contact form").count() == 1
                if path.startswith("/search/") and viewport is PHONE:
                    page.click("[data-filters-toggle]")  # check the open panel too
                problems = violations(page)
                if problems:
                    found[f"{path} at {viewport['width']} px"] = problems
    assert found == {}, found


@needs_chromium
def test_the_axe_helper_reports_what_it_should():
    with browser_page() as page:
        page.set_content(
            '<html lang="en"><title>t</title><main><img src="data:,"><p style="color:#eee">faint</p></main></html>'
        )
        found = " ".join(violations(page))
        assert "image-alt (critical)" in found and "color-contrast (serious)" in found
