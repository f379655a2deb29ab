"""Factories for tests of the search app's models and the Wagtail search models it drives."""

import factory

from wagtail.contrib.search_promotions.models import Query, SearchPromotion


class SearchPromotionFactory(factory.django.DjangoModelFactory):
    """An editor's pick for ``query_string=`` (or ``query=``): the page given as ``page=``, else an
    external link."""

    query = factory.LazyAttribute(lambda o: Query.get(o.query_string))
    external_link_url = factory.LazyAttribute(lambda o: "" if o.page else "https://example.org/")
    external_link_text = factory.LazyAttribute(lambda o: None if o.page else "Example")
    page = None

    class Meta:
        model = SearchPromotion

    class Params:
        query_string = factory.Sequence(lambda n: f"search words {n}")
