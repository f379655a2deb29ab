"""Similar practices on a practice page: editors' related practices first, then the engine's."""

from __future__ import annotations

import copy
import datetime

import pytest

from django.utils import timezone

from practices.factories import (
    ClusterPageFactory,
    PageViewRestrictionFactory,
    PracticePageFactory,
    RelatedPracticeFactory,
    make_site,
)
from search import service


def practice(parent, title, summary, **kw):
    page = PracticePageFactory(parent=parent, title=title, summary=summary, **kw)
    if page.live:
        page.save_revision().publish()
    return page


@pytest.fixture(scope="module")
def similar_kb_data(shared_db):
    site = make_site()
    cluj = ClusterPageFactory(parent=site["clusters"], title="Cluj IT Cluster", slug="cluj", country="RO")
    voj = ClusterPageFactory(parent=site["clusters"], title="Vojvodina ICT Cluster", slug="voj", country="RS")
    t = {
        "cluj": cluj,
        "voj": voj,
        "page": practice(cluj, "Telemedicine for rural clinics", "Video consultations for village clinics."),
        "kiosk": practice(voj, "Telemedicine kiosks", "Kiosks in village clinics.", countries=["RS", "HU"]),
        "nurses": practice(
            cluj, "Rural clinics share nurses", "Telemedicine nurses for clinics.", countries=["RO"]
        ),
        "phones": practice(voj, "Recycling old phones", "Collecting phones in Novi Sad.", countries=["RS"]),
        "draft": practice(cluj, "Telemedicine clinics draft", "Village clinics telemedicine.", live=False),
        "private": practice(cluj, "Telemedicine clinics private", "Village clinics telemedicine."),
        "expired": practice(
            cluj,
            "Telemedicine clinics expired",
            "Village clinics telemedicine.",
            expire_at=timezone.now() - datetime.timedelta(days=1),
        ),
    }
    PageViewRestrictionFactory(page=t["private"])
    for n, related in enumerate((t["phones"], t["draft"], t["kiosk"], t["private"])):
        RelatedPracticeFactory(page=t["page"], related=related, sort_order=n)
    service.rebuild(progress=False)
    return t


@pytest.fixture
def tree(similar_kb_data, db):
    """Practices like one another and not, some hidden from the public, indexed: built once per module."""
    service.reset_engine()
    yield copy.deepcopy(similar_kb_data)
    service.reset_engine()


def test_editors_choice_first_then_the_engines_once_each_and_only_what_the_public_sees(tree):
    similar = service.similar_practices(tree["page"])
    titles = [(s.page.title, s.chosen) for s in similar]
    assert titles[:2] == [("Recycling old phones", True), ("Telemedicine kiosks", True)]
    assert ("Rural clinics share nurses", False) in titles
    assert len({s.page.pk for s in similar}) == len(similar)
    shown = {s.page.pk for s in similar}
    assert not shown & {tree[k].pk for k in ("page", "draft", "private", "expired")}
    assert {s.cluster.pk for s in similar} == {tree["cluj"].pk, tree["voj"].pk}


def test_limit_and_the_engine_alone(tree):
    assert [s.page.title for s in service.similar_practices(tree["page"], limit=1)] == [
        "Recycling old phones"
    ]
    found = service.similar_practices(tree["kiosk"])
    assert found and not any(s.chosen for s in found)
    assert tree["page"].pk in {s.page.pk for s in found}


def test_the_engine_unavailable_leaves_the_editors_choice(tree, monkeypatch):
    from search.engines.base import EngineUnavailable

    def down(*args, **kwargs):
        raise EngineUnavailable("down")

    monkeypatch.setattr(service.get_engine(), "similar", down)
    assert [s.page.title for s in service.similar_practices(tree["page"])] == [
        "Recycling old phones",
        "Telemedicine kiosks",
    ]


def test_practice_page_shows_similar_practices_and_the_clusters_behind_them(tree, client):
    html = client.get(tree["page"].url).content.decode()
    assert "Similar practices" in html and "Telemedicine kiosks" in html
    assert "chosen by editors" in html
    assert "Clusters working on similar practices" in html
    # Vojvodina publishes two of them (kiosks, phones), applied in Hungary and Serbia.
    assert "2 similar practices in Hungary, Serbia" in html
    for hidden in (
        "Telemedicine clinics draft",
        "Telemedicine clinics private",
        "Telemedicine clinics expired",
    ):
        assert hidden not in html
