"""The facet registry: one definition per facet, read by the parser, the service and both engines."""

from __future__ import annotations

import pytest

from search import facets
from search.engines.base import FacetCount
from search.query import FACETS, QueryError, parse


def test_the_parser_takes_its_facets_and_their_checks_from_the_registry():
    assert FACETS == tuple(f.name for f in facets.REGISTRY)
    query, notes = parse({"country": "ro", "type": ["practice", "poster"], "year": ["2020", "20x"]})
    assert dict(query.filters) == {"country": ("RO",), "type": ("practice",), "year": ("2020",)}
    assert notes == ["Unknown type 'poster' was ignored.", "Year '20x' was ignored."]
    with pytest.raises(QueryError, match="use one of practice, presentation, event"):
        parse({"type": "poster"}, strict=True)


def test_ordered_sorts_by_count_then_label_and_caps_keeping_selected_values():
    counts = [FacetCount(f"v{i}", 10 - i, label=f"L{i}") for i in range(6)]
    counts.append(FacetCount("rare", 0, True, "Rare"))
    counts.append(FacetCount("tie", 8, label="A tie"))
    got = facets.ordered(counts, chosen={"rare"}, cap=3)
    assert [c.value for c in got] == ["v0", "v1", "tie", "rare"]
    assert len(facets.ordered(counts)) == len(counts)


@pytest.mark.django_db
def test_lookups_name_what_a_value_means():
    assert facets.BY_NAME["country"].lookup(["ME", "ZZ"]) == {"ME": ("ME", "Montenegro")}
    assert facets.BY_NAME["industry"].lookup(["j"])["j"][0] == "J"
    assert facets.BY_NAME["type"].lookup(["event"]) == {"event": ("event", "Meeting")}
    assert facets.parents(["62", "J"]) == {"62": "J"}
