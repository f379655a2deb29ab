"""SearchPromotionFactory: a pick for normalised words, an external link unless given a page."""

import pytest

from wagtail.contrib.search_promotions.models import Query

from practices.factories import PracticePageFactory, make_site
from search.factories import SearchPromotionFactory

pytestmark = pytest.mark.django_db


def test_a_pick_is_an_external_link_under_the_normalised_words():
    pick = SearchPromotionFactory(query_string="Rural  Health")
    assert pick.query == Query.get("rural health")
    assert pick.page is None and pick.external_link_url and pick.title == pick.external_link_text


def test_a_pick_of_a_page_has_no_external_link():
    page = PracticePageFactory(parent=make_site()["home"])
    pick = SearchPromotionFactory(page=page)
    assert pick.external_link_url == "" and pick.title == page.title and pick.link == page
