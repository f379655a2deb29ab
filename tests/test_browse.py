"""Browse pages and the country map: counts are the search's own facet counts."""

from __future__ import annotations

import copy
import re

import pytest

from django.core.files.base import ContentFile

from practices import europe_map
from practices.factories import KBDocumentFactory, PracticePageFactory
from practices.models import Industry
from search import service
from search.query import Query, parse
from tests.practices.files import pdf_bytes
from tests.search.test_visibility import build_kb


@pytest.fixture(scope="module")
def browse_kb_data(shared_db):
    tree = build_kb()
    for n, (country, code) in enumerate([("RS", "62"), ("RS", "63"), ("XK", "62"), ("ME", "E")]):
        p = PracticePageFactory(
            parent=tree["voj"], title=f"Browse practice {n}", slug=f"browse-{n}", countries=[country]
        )
        p.industries.set([Industry.objects.get(code=code)])
        p.save_revision().publish()
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def browse_kb(browse_kb_data, db):
    service.reset_engine()
    data = copy.deepcopy(browse_kb_data)
    yield data
    service.reset_engine()


def facet(name: str) -> dict[str, int]:
    """What the search page's facet shows on an empty search."""
    return {c.value: c.count for c in service.search(Query()).facets[name]}


def test_industries_show_the_facet_counts_and_empty_ones_are_not_links(browse_kb, client):
    html = client.get("/industries/").content.decode()
    counts = facet("industry")
    assert counts["J"] == 4 and counts["62"] == 3  # telemedicine and two browse practices
    section = re.search(
        r'<a href="/search/\?industry=J"[^>]*>.*?</a>\s*<span class="count-pill"[^>]*>(\d+)<', html, re.S
    )
    assert section and int(section.group(1)) == counts["J"]
    division = re.search(
        r'<a href="/search/\?industry=62"[^>]*>.*?</a>\s*<span class="count-pill"[^>]*>(\d+)<', html, re.S
    )
    assert division and int(division.group(1)) == counts["62"]
    # Mining has nothing: shown, counted 0, and no link to an empty page.
    assert "/search/?industry=B" not in html and "/search/?industry=05" not in html
    assert re.search(r'class="industry-section is-empty">\s*<h2><span><span class="code">B</span>', html)
    # The draft, private and expired practices are not counted (the facet leaves them out too).
    assert client.get("/search/?industry=62").context["results"].total == counts["62"]


@pytest.fixture
def slides(browse_kb, run_on_commit):
    """The meeting's presentation, in agriculture (A, 01), with a real 3-page PDF as its slides."""
    with run_on_commit():  # text extraction runs on commit
        pdf = KBDocumentFactory(
            title="Vineyard sensors",
            file=ContentFile(
                pdf_bytes([["Vineyard sensors"], ["Soil moisture probes"], ["Questions"]]),
                name="vineyard.pdf",
            ),
        )
    pdf.refresh_from_db()
    assert pdf.page_count == 3 and pdf.text_units.count() == 3
    presentation = browse_kb["presentation"]
    presentation.slides = pdf
    presentation.industries.set([Industry.objects.get(code="01")])
    presentation.save_revision().publish()
    service.rebuild(progress=False)
    return presentation


def test_a_presentation_with_slides_counts_once_and_its_link_opens_as_many(slides, client):
    # Its three PDF pages are entries of the search, found by their words...
    parts = [h for h in service.search(parse({"q": "moisture"})[0]).hits if h.document]
    assert [(h.page_id, h.document.page) for h in parts] == [(slides.pk, 2)]
    # ...but a browse lists and counts the presentation once.
    html = client.get("/industries/").content.decode()
    for code in ("A", "01"):
        shown = re.search(
            rf'<a href="/search/\?industry={code}"[^>]*>.*?</a>\s*<span class="count-pill"[^>]*>(\d+)<',
            html,
            re.S,
        )
        assert shown and int(shown.group(1)) == 1
        results = client.get(f"/search/?industry={code}").context["results"]
        assert results.total == 1 and [h.page_id for h in results.hits] == [slides.pk]
    clusters = client.get("/clusters/").content.decode()
    count = re.search(
        r'<a href="/search/\?cluster=cluj-it-cluster">Practices and presentations: (\d+)</a>', clusters
    )
    assert (
        count
        and int(count.group(1)) == client.get("/search/?cluster=cluj-it-cluster").context["results"].total
    )
    assert int(count.group(1)) == 2  # the telemedicine practice and the presentation, once each
    home = client.get("/").content.decode()
    romania = re.search(r'<a href="/search/\?country=RO" aria-label="Romania: (\d+)">', home)
    assert romania and int(romania.group(1)) == client.get("/search/?country=RO").context["results"].total


def test_clusters_show_country_and_counts(browse_kb, client):
    html = client.get("/clusters/").content.decode()
    counts = facet("cluster")
    assert (
        f'<a href="/search/?cluster=vojvodina-ict-cluster">Practices and presentations: {counts["vojvodina-ict-cluster"]}</a>'
        in html
    )
    assert (
        f'<a href="/search/?cluster=cluj-it-cluster">Practices and presentations: {counts["cluj-it-cluster"]}</a>'
        in html
    )
    assert "Serbia" in html and "Romania" in html


def test_home_map_links_each_country_with_results_to_the_search(browse_kb, client):
    html = client.get("/").content.decode()
    counts = facet("country")
    assert counts["RS"] == 3 and counts["XK"] == 1
    assert f'<a href="/search/?country=RS" aria-label="Serbia: {counts["RS"]}">' in html
    assert '<a href="/search/?country=XK" aria-label="Kosovo: 1">' in html
    assert '<a href="/search/?country=ME" aria-label="Montenegro: 1">' in html
    # A country without results is drawn but is no link.
    assert "/search/?country=HU" not in html
    # The table beside it holds the same counts.
    assert re.search(r'<td><a href="/search/\?country=RS">Serbia</a></td><td class="num">3</td>', html)
    assert 'role="group" aria-labelledby="country-map-title"' in html


def test_search_page_map_keeps_the_query_and_other_filters(browse_kb, client):
    html = client.get("/search/?q=browse&industry=J&country=XK&page=1").content.decode()
    assert '<a href="/search/?q=browse&amp;industry=J&amp;country=RS" aria-label="Serbia: 2">' in html
    assert '<a href="/search/?q=browse&amp;industry=J&amp;country=XK" aria-label="Kosovo: 1">' in html


def test_map_data_holds_kosovo_and_the_network_and_stays_light():
    drawn = {c["code"] for c in europe_map.shapes()["countries"]}
    assert {"XK", "RS", "ME", "MK", "BA", "AL", "RO", "BG", "HR", "SI", "MD", "UA", "AT", "MT", "CY"} <= drawn
    assert europe_map.MAP_PATH.stat().st_size < 80_000
    assert all(re.fullmatch(r"M[-\d. LZM]+Z", c["d"]) for c in europe_map.shapes()["countries"])


def test_map_context_shades_by_count_with_a_legend():
    ctx = europe_map.map_context({"RS": 300, "RO": 1, "XK": 12, "HU": 0, "ZA": 2})
    shades = ctx["shades"]
    assert shades["RS"] == len(ctx["legend"]) and shades["RO"] == 1
    assert 1 < shades["XK"] < shades["RS"]
    svg = str(ctx["svg_countries"])
    assert '<a href="/search/?country=XK" aria-label="Kosovo: 12"><path class="shade-' in svg
    assert "country=HU" not in svg and "HU" not in shades  # drawn, grey, no link
    assert svg.count("<path") == len(europe_map.shapes()["countries"])
    # Ranges cover 1..top without gaps.
    legend = ctx["legend"]
    assert legend[0]["low"] == 1 and legend[-1]["high"] == 300
    assert all(a["high"] + 1 == b["low"] for a, b in zip(legend, legend[1:], strict=False))
    # Countries beyond the frame are in the table, not on the map; the table is by count.
    table = str(ctx["table_rows"])
    order = [table.index(f"country={c}") for c in ("RS", "XK", "ZA", "RO")]
    assert order == sorted(order) and "country=HU" not in table
    assert ctx["beyond_frame"] == ["South Africa"]
    assert europe_map.map_context({})["legend"] == []
