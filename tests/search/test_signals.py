"""The index follows every publishing event, updating exactly the affected pages."""

from __future__ import annotations

import pytest

from wagtail.models import Page, PageViewRestriction

from practices.factories import PracticePageFactory
from practices.models import Industry, PracticePage
from practices.signals import labels_changed, practices_imported
from search import service
from search.query import parse
from tests.search.test_visibility import build_kb


@pytest.fixture
def kb(db, django_capture_on_commit_callbacks):
    service.reset_engine()
    tree = build_kb()
    service.rebuild(progress=False)

    def commit():
        return django_capture_on_commit_callbacks(execute=True)

    tree["commit"] = commit
    yield tree
    service.reset_engine()


def indexed() -> set[int]:
    return service.get_engine().page_ids()


def found(text: str = "", **filters) -> list[int]:
    query, _ = parse({"q": text, **filters})
    return [h.page_id for h in service.search(query).hits]


def test_publish_indexes_and_a_draft_does_not(kb):
    with kb["commit"]():
        page = PracticePageFactory(
            parent=kb["cluj"], title="Drone mapping of vineyards", slug="drones", live=False
        )
        page.save_revision()
    assert page.pk not in indexed()
    with kb["commit"]():
        page.get_latest_revision().publish()
    assert found("vineyards") == [page.pk]
    with kb["commit"]():
        page.title = "Secret draft title about zeppelins"
        page.save_revision()
    assert found("zeppelins") == []
    assert found("vineyards") == [page.pk]


def test_unpublish_removes_the_page_and_its_descendants(kb):
    with kb["commit"]():
        kb["event"].unpublish()
    assert kb["event"].pk not in indexed()
    # The presentation stays live itself, but its meeting is gone, so it is hidden too.
    assert Page.objects.get(pk=kb["presentation"].pk).live
    assert kb["presentation"].pk not in indexed()
    with kb["commit"]():
        Page.objects.get(pk=kb["event"].pk).specific.save_revision().publish()
    assert {kb["event"].pk, kb["presentation"].pk} <= indexed()


def test_delete_removes_the_page(kb):
    pk = kb["recycling"].pk
    with kb["commit"]():
        Page.objects.get(pk=pk).delete()
    assert pk not in indexed()
    assert kb["telemedicine"].pk in indexed()


def test_deleting_a_cluster_removes_its_practices(kb):
    with kb["commit"]():
        Page.objects.get(pk=kb["voj"].pk).delete()
    assert kb["recycling"].pk not in indexed()


def test_move_under_a_private_parent_hides_and_moving_back_shows(kb):
    PageViewRestriction.objects.create(page=kb["voj"], restriction_type=PageViewRestriction.LOGIN)
    with kb["commit"]():
        Page.objects.get(pk=kb["telemedicine"].pk).move(Page.objects.get(pk=kb["voj"].pk), pos="last-child")
    assert kb["telemedicine"].pk not in indexed()
    with kb["commit"]():
        Page.objects.get(pk=kb["telemedicine"].pk).move(Page.objects.get(pk=kb["cluj"].pk), pos="last-child")
    assert found("telemedicine") == [kb["telemedicine"].pk]


def test_move_updates_cluster_facet_and_url(kb):
    with kb["commit"]():
        Page.objects.get(pk=kb["telemedicine"].pk).move(Page.objects.get(pk=kb["voj"].pk), pos="last-child")
    assert found("telemedicine", cluster="vojvodina-ict-cluster") == [kb["telemedicine"].pk]
    query, _ = parse({"q": "telemedicine"})
    assert service.search(query).hits[0].url == "/clusters/vojvodina-ict-cluster/telemedicine/"


def test_privacy_change_on_an_ancestor_hides_then_shows(kb):
    with kb["commit"]():
        restriction = PageViewRestriction.objects.create(
            page=kb["cluj"], restriction_type=PageViewRestriction.LOGIN
        )
    assert kb["telemedicine"].pk not in indexed()
    with kb["commit"]():
        restriction.delete()
    assert kb["telemedicine"].pk in indexed()


def test_cluster_rename_relabels_its_practices_and_presentations(kb):
    cluster = kb["cluj"]
    with kb["commit"]():
        cluster.title = "Transylvania Digital Cluster"
        cluster.save_revision().publish()
    assert set(found("Transylvania")) == {kb["telemedicine"].pk, kb["presentation"].pk}


def test_industry_rename_relabels_pages_of_its_divisions_too(kb):
    section = Industry.objects.get(code="J")
    with kb["commit"]():
        section.name = "Zettabyte communications"
        section.save()
    query, _ = parse({"q": "", "industry": "J"})
    facets = {c.value: c.label for c in service.search(query).facets["industry"]}
    assert facets["J"] == "Zettabyte communications"


def test_bulk_import_signal_indexes_the_listed_pages(kb):
    with kb["commit"]():
        pages = [
            PracticePageFactory(parent=kb["voj"], title=f"Imported hydroponics {n}", slug=f"imp-{n}")
            for n in range(3)
        ]
        # A bulk import writes rows directly, without publish signals; the importer announces them.
        PracticePage.objects.filter(pk=pages[0].pk).update(title="Imported aquaponics")
        practices_imported.send(sender=PracticePage, page_ids=[p.pk for p in pages])
    assert set(found("imported")) == {p.pk for p in pages}
    assert found("aquaponics") == [pages[0].pk]


def test_labels_changed_signal_reindexes(kb):
    PracticePage.objects.filter(pk=kb["recycling"].pk).update(summary="Now about kombucha.")
    assert found("kombucha") == []
    with kb["commit"]():
        labels_changed.send(sender=Industry, page_ids=[kb["recycling"].pk])
    assert found("kombucha") == [kb["recycling"].pk]


def test_theme_publish_and_unpublish_update_the_theme_facet(kb):
    assert found(theme="digital-health") == [kb["telemedicine"].pk]
    with kb["commit"]():
        kb["theme"].unpublish()
    assert found(theme="digital-health") == []
