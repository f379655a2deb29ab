"""The index follows every publishing event, updating exactly the affected pages."""

from __future__ import annotations

import copy

import pytest

from wagtail.models import Page

from practices.factories import PageViewRestrictionFactory, PracticePageFactory
from practices.models import Industry, PracticePage
from practices.signals import labels_changed, practices_imported
from search import service
from search.query import parse
from tests.search.test_visibility import build_kb


@pytest.fixture(scope="module")
def signals_kb_data(shared_db):
    tree = build_kb()
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def signals_kb(signals_kb_data, db, run_on_commit):
    service.reset_engine()
    data = copy.deepcopy(signals_kb_data)
    data["commit"] = run_on_commit
    yield data
    service.reset_engine()


def indexed() -> set[int]:
    return service.get_engine().page_ids()


def found(text: str = "", **filters) -> list[int]:
    query, _ = parse({"q": text, **filters})
    return [h.page_id for h in service.search(query).hits]


def test_publish_indexes_and_a_draft_does_not(signals_kb):
    with signals_kb["commit"]():
        page = PracticePageFactory(
            parent=signals_kb["cluj"], title="Drone mapping of vineyards", slug="drones", live=False
        )
        page.save_revision()
    assert page.pk not in indexed()
    with signals_kb["commit"]():
        page.get_latest_revision().publish()
    assert found("vineyards") == [page.pk]
    with signals_kb["commit"]():
        page.title = "Secret draft title about zeppelins"
        page.save_revision()
    assert found("zeppelins") == []
    assert found("vineyards") == [page.pk]


def test_unpublish_removes_the_page_and_its_descendants(signals_kb):
    with signals_kb["commit"]():
        signals_kb["event"].unpublish()
    assert signals_kb["event"].pk not in indexed()
    # The presentation stays live itself, but its meeting is gone, so it is hidden too.
    assert Page.objects.get(pk=signals_kb["presentation"].pk).live
    assert signals_kb["presentation"].pk not in indexed()
    with signals_kb["commit"]():
        Page.objects.get(pk=signals_kb["event"].pk).specific.save_revision().publish()
    assert {signals_kb["event"].pk, signals_kb["presentation"].pk} <= indexed()


def test_delete_removes_the_page(signals_kb):
    pk = signals_kb["recycling"].pk
    with signals_kb["commit"]():
        Page.objects.get(pk=pk).delete()
    assert pk not in indexed()
    assert signals_kb["telemedicine"].pk in indexed()


def test_deleting_a_cluster_removes_its_practices(signals_kb):
    with signals_kb["commit"]():
        Page.objects.get(pk=signals_kb["voj"].pk).delete()
    assert signals_kb["recycling"].pk not in indexed()


def test_move_under_a_private_parent_hides_and_moving_back_shows(signals_kb):
    PageViewRestrictionFactory(page=signals_kb["voj"])
    with signals_kb["commit"]():
        Page.objects.get(pk=signals_kb["telemedicine"].pk).move(
            Page.objects.get(pk=signals_kb["voj"].pk), pos="last-child"
        )
    assert signals_kb["telemedicine"].pk not in indexed()
    with signals_kb["commit"]():
        Page.objects.get(pk=signals_kb["telemedicine"].pk).move(
            Page.objects.get(pk=signals_kb["cluj"].pk), pos="last-child"
        )
    assert found("telemedicine") == [signals_kb["telemedicine"].pk]


def test_move_updates_cluster_facet_and_url(signals_kb):
    with signals_kb["commit"]():
        Page.objects.get(pk=signals_kb["telemedicine"].pk).move(
            Page.objects.get(pk=signals_kb["voj"].pk), pos="last-child"
        )
    assert found("telemedicine", cluster="vojvodina-ict-cluster") == [signals_kb["telemedicine"].pk]
    query, _ = parse({"q": "telemedicine"})
    assert service.search(query).hits[0].url == "/clusters/vojvodina-ict-cluster/telemedicine/"


def test_privacy_change_on_an_ancestor_hides_then_shows(signals_kb):
    with signals_kb["commit"]():
        restriction = PageViewRestrictionFactory(page=signals_kb["cluj"])
    assert signals_kb["telemedicine"].pk not in indexed()
    with signals_kb["commit"]():
        restriction.delete()
    assert signals_kb["telemedicine"].pk in indexed()


def test_cluster_rename_relabels_its_practices_and_presentations(signals_kb):
    cluster = signals_kb["cluj"]
    with signals_kb["commit"]():
        cluster.title = "Transylvania Digital Cluster"
        cluster.save_revision().publish()
    assert set(found("Transylvania")) == {signals_kb["telemedicine"].pk, signals_kb["presentation"].pk}


def test_industry_rename_relabels_pages_of_its_divisions_too(signals_kb):
    section = Industry.objects.get(code="J")
    with signals_kb["commit"]():
        section.name = "Zettabyte communications"
        section.save()
    query, _ = parse({"q": "", "industry": "J"})
    facets = {c.value: c.label for c in service.search(query).facets["industry"]}
    assert facets["J"] == "Zettabyte communications"


def test_bulk_import_signal_indexes_the_listed_pages(signals_kb):
    with signals_kb["commit"]():
        pages = [
            PracticePageFactory(parent=signals_kb["voj"], title=f"Imported hydroponics {n}", slug=f"imp-{n}")
            for n in range(3)
        ]
        # A bulk import writes rows directly, without publish signals; the importer announces them.
        PracticePage.objects.filter(pk=pages[0].pk).update(title="Imported aquaponics")
        practices_imported.send(sender=PracticePage, page_ids=[p.pk for p in pages])
    assert set(found("imported")) == {p.pk for p in pages}
    assert found("aquaponics") == [pages[0].pk]


def test_labels_changed_signal_reindexes(signals_kb):
    PracticePage.objects.filter(pk=signals_kb["recycling"].pk).update(summary="Now about kombucha.")
    assert found("kombucha") == []
    with signals_kb["commit"]():
        labels_changed.send(sender=Industry, page_ids=[signals_kb["recycling"].pk])
    assert found("kombucha") == [signals_kb["recycling"].pk]


def test_theme_publish_and_unpublish_update_the_theme_facet(signals_kb):
    assert found(theme="digital-health") == [signals_kb["telemedicine"].pk]
    with signals_kb["commit"]():
        signals_kb["theme"].unpublish()
    assert found(theme="digital-health") == []
