"""`/api/search/`: the documented shape, 400 with a message for malformed parameters, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.query import FACETS


def test_shape(kb, client):
    data = client.get("/api/search/", {"q": "telemedicine"}).json()
    assert set(data) == {"total", "page", "results", "facets", "suggestion"}
    assert data["total"] == 1 and data["page"] == 1 and data["suggestion"] is None
    [hit] = data["results"]
    assert hit == {
        "title": "Telemedicine platform for rural clinics",
        "url": "/clusters/cluj-it-cluster/telemedicine/",
        "type": "practice",
        "snippet": hit["snippet"],
        "cluster": "Cluj IT Cluster",
        "industries": ["62"],
        "year": 2021,
    }
    assert "doctors &amp; clinics" in hit["snippet"]
    industry = {f["value"]: f for f in data["facets"]["industry"]}
    assert industry["J"] == {"value": "J", "label": industry["J"]["label"], "count": 1, "selected": False}
    assert set(data["facets"]) <= set(FACETS)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sort": "random"}, "Unknown sort"),
        ({"page": "0"}, "Page must be"),
        ({"page": "abc"}, "Page must be"),
        ({"page": "99"}, "past the last page"),
        ({"type": "video"}, "Unknown type"),
        ({"year": "20x1"}, "four-digit year"),
    ],
)
def test_malformed_parameters_get_400(kb, client, params, message):
    response = client.get("/api/search/", {"q": "telemedicine", **params})
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_unknown_facet_value_is_ignored_with_a_note(kb, client):
    data = client.get("/api/search/", {"q": "telemedicine", "industry": ["J", "QQ"]}).json()
    assert data["total"] == 1
    assert data["notes"] == ["Unknown industry 'QQ' was ignored."]


def test_correction_is_reported(kb, client):
    data = client.get("/api/search/", {"q": "telemedicne"}).json()
    assert data["suggestion"] == "telemedicine"
    assert data["corrected_from"] == "telemedicne"
    assert data["total"] == 1


params = st.dictionaries(
    st.sampled_from(["q", "sort", "page", *FACETS, "other"]),
    st.text(max_size=300),
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=params)
def test_arbitrary_parameters_never_500(kb, client, params):
    for url in ("/api/search/", "/search/", "/search/suggest"):
        response = client.get(url, params)
        assert response.status_code in (200, 400), (url, params)
        if url == "/api/search/" and response.status_code == 400:
            assert response.json()["error"]
