"""The results list built in Python gives the very HTML the template loop it replaced gave."""

from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

import pytest

from django.template import Context, Template

from search.views import cards_html

# The loop search/results.html had, kept here as the reference.
TEMPLATE_LOOP = """{% for card in cards %}
        <li class="hit hit-{{ card.hit.type }}">
          <p class="hit-kicker"><span class="hit-type">{{ card.type }}</span>{% if card.publisher %} <span class="hit-publisher">{{ card.publisher }}</span>{% endif %}</p>
          <h3 class="hit-title"><a href="{{ card.url }}">{{ card.title_html|safe }}</a></h3>
          {% if card.part_html %}<p class="hit-part"><a href="{{ card.part_url }}">{{ card.part_html|safe }}</a>{% if card.part_title %}<span class="part-title"> · {{ card.part_title }}</span>{% endif %}</p>{% endif %}
          {% if card.snippet_html %}<p class="snippet">{{ card.snippet_html|safe }}</p>{% endif %}
          <ul class="hit-facts">
            {% if card.organisation and card.hit.type == "practice" %}<li class="hit-organisation"><span class="visually-hidden">Organisation: </span>{{ card.organisation }}</li>{% endif %}
            {% if card.countries %}<li class="hit-countries"><span class="visually-hidden">Countries: </span>{{ card.countries|join:", " }}</li>{% endif %}
            {% if card.industries %}<li class="hit-industries"><span class="visually-hidden">Industries: </span>{{ card.industries|join:"; " }}</li>{% endif %}
            {% if card.year %}<li class="hit-year">{{ card.year }}</li>{% elif card.added %}<li class="hit-added">Added {{ card.added|date:"j M Y" }}</li>{% endif %}
          </ul>
        </li>
        {% endfor %}"""

HOSTILE = '<b>"Tom\'s" & Jerry</b>'


def card(kind, *, part, publisher, organisation, countries, year, added):
    return {
        "hit": SimpleNamespace(type=kind),
        "type": kind.title() if kind != "event" else HOSTILE,
        "url": f"/practices/{kind}/?a=1&b='2'",
        "title_html": "<mark>Waste</mark> &amp; water",
        "part_html": "Slide <mark>2</mark> of 9" if part else "",
        "part_url": '/documents/1/?page=2&x="y"' if part else "",
        "part_title": HOSTILE if part else "",
        "snippet_html": "" if part else "… the <mark>waste</mark> of it …",
        "publisher": HOSTILE if publisher else "",
        "organisation": "Org <i>&</i>" if organisation else "",
        "countries": ["Serbia", HOSTILE] if countries else [],
        "industries": ["Manufacturing", "Water; <sewerage>"] if countries else [],
        "year": year,
        "added": added,
    }


CARDS = [
    card(
        kind,
        part=part,
        publisher=publisher,
        organisation=organisation,
        countries=countries,
        year=year,
        added=added,
    )
    for kind, part, publisher, organisation, countries, (year, added) in itertools.product(
        ("practice", "presentation", "event"),
        (False, True),
        (False, True),
        (False, True),
        (False, True),
        ((2021, None), (None, date(2024, 3, 5)), (None, None), (0, date(2020, 12, 31))),
    )
]


@pytest.mark.parametrize("cards", [[c] for c in CARDS] + [CARDS, []], ids=lambda c: f"{len(c)} cards")
def test_cards_html_is_the_template_loops_html(cards):
    assert cards_html(cards) == Template(TEMPLATE_LOOP).render(Context({"cards": cards}))
