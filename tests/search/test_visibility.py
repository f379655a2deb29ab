"""Only live, public, unexpired pages under a site root become index entries, with the right facets."""

from __future__ import annotations

import copy
import datetime

import pytest

from django.core.files.base import ContentFile
from django.utils import timezone

from wagtail.models import Page

from practices import visibility
from practices.factories import (
    ClusterPageFactory,
    CollectionViewRestrictionFactory,
    DocumentTextUnitFactory,
    EventPageFactory,
    KBDocumentFactory,
    PageViewRestrictionFactory,
    PracticeDocumentFactory,
    PracticePageFactory,
    PresentationPageFactory,
    ThemeItemFactory,
    ThemePageFactory,
    make_site,
)
from practices.models import Industry, KBDocument
from search import documents, service
from search.query import parse


def build_kb():
    """A small site: one cluster with practices in every state, an event with a presentation, a theme."""
    tree = make_site()
    cluj = ClusterPageFactory(
        parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj-it-cluster", country="RO"
    )
    voj = ClusterPageFactory(
        parent=tree["clusters"], title="Vojvodina ICT Cluster", slug="vojvodina-ict-cluster", country="RS"
    )
    telemedicine = PracticePageFactory(
        parent=cluj,
        title="Telemedicine platform for rural clinics",
        slug="telemedicine",
        summary="Remote consultations over video.",
        challenge="<p>Villages <b>lack</b> doctors &amp; clinics.</p>",
        countries=["RO"],
        start_year=2021,
        organisation="Cluj Health Hub",
    )
    telemedicine.industries.set([Industry.objects.get(code="62")])
    telemedicine.tags.add("Health", "Digital solutions")
    telemedicine.save_revision().publish()
    recycling = PracticePageFactory(
        parent=voj,
        title="Recycling electronic waste",
        slug="recycling",
        summary="Collecting and recycling old phones in Novi Sad.",
        countries=["RS"],
        start_year=2019,
    )
    recycling.industries.set([Industry.objects.get(code="E")])
    recycling.save_revision().publish()
    draft = PracticePageFactory(parent=cluj, title="Draft telemedicine idea", slug="draft", live=False)
    private = PracticePageFactory(parent=cluj, title="Private telemedicine notes", slug="private")
    PageViewRestrictionFactory(page=private)
    expired = PracticePageFactory(
        parent=cluj,
        title="Expired telemedicine offer",
        slug="expired",
        expire_at=timezone.now() - datetime.timedelta(days=1),
    )
    event = EventPageFactory(
        parent=tree["events"], title="Belgrade meeting", start_date=datetime.date(2016, 2, 18)
    )
    presentation = PresentationPageFactory(
        parent=event,
        title="Agritech in Cluj",
        slug="agritech",
        presenting_cluster=cluj,
        abstract="<p>Drones.</p>",
    )
    theme = ThemePageFactory(parent=tree["themes"], title="Digital health", slug="digital-health")
    ThemeItemFactory(page=theme, item=telemedicine, sort_order=0)
    return {
        **tree,
        "cluj": cluj,
        "voj": voj,
        "telemedicine": telemedicine,
        "recycling": recycling,
        "draft": draft,
        "private": private,
        "expired": expired,
        "event": event,
        "presentation": presentation,
        "theme": theme,
    }


@pytest.fixture(scope="module")
def visibility_kb_data(shared_db):
    return build_kb()


@pytest.fixture
def visibility_kb(visibility_kb_data, db):
    """build_kb's site, not indexed."""
    service.reset_engine()
    yield copy.deepcopy(visibility_kb_data)
    service.reset_engine()


def page_entries():
    return {e.page_id: e for e in documents.all_entries() if e.document is None}


def test_only_live_public_unexpired_pages_are_indexed(visibility_kb):
    ids = set(page_entries())
    assert ids == {
        visibility_kb["telemedicine"].pk,
        visibility_kb["recycling"].pk,
        visibility_kb["event"].pk,
        visibility_kb["presentation"].pk,
    }
    for name in ("draft", "private", "expired"):
        assert not visibility.is_visible(visibility_kb[name])
        assert list(documents.iter_entries([visibility_kb[name].pk])) == []
    assert visibility.is_visible(visibility_kb["telemedicine"])


def test_a_draft_of_a_published_page_never_reaches_the_index(visibility_kb):
    page = visibility_kb["telemedicine"]
    page.title = "Secret unpublished title"
    page.save_revision()
    [entry] = [e for e in documents.iter_entries([page.pk]) if e.document is None]
    assert entry.title == "Telemedicine platform for rural clinics"


def test_pages_under_a_private_or_unpublished_parent_are_hidden(visibility_kb):
    PageViewRestrictionFactory(page=visibility_kb["voj"])
    assert visibility_kb["recycling"].pk not in page_entries()
    visibility_kb["cluj"].unpublish()
    assert visibility_kb["telemedicine"].pk not in page_entries()
    assert not visibility.is_visible(Page.objects.get(pk=visibility_kb["telemedicine"].pk))


def test_pages_outside_every_site_are_not_indexed(visibility_kb):
    root = Page.get_first_root_node()
    other_home = root.add_child(instance=Page(title="Orphan home", slug="orphan-home"))
    moved = visibility_kb["recycling"]
    cluster = ClusterPageFactory(parent=visibility_kb["clusters"], title="Mover", slug="mover")
    Page.objects.get(pk=cluster.pk).move(other_home, pos="last-child")
    moved = PracticePageFactory(parent=Page.objects.get(pk=cluster.pk), title="Outside", slug="outside")
    assert moved.pk not in page_entries()
    assert not visibility.is_visible(moved)


def test_facets_labels_and_text_of_a_practice(visibility_kb):
    entry = page_entries()[visibility_kb["telemedicine"].pk]
    assert entry.type == "practice"
    assert entry.key == f"page:{visibility_kb['telemedicine'].pk}"
    assert set(entry.facets["industry"]) == {"62", "J"}
    assert entry.facets["cluster"] == ("cluj-it-cluster",)
    assert entry.facets["country"] == ("RO",)
    assert entry.facets["year"] == ("2021",)
    assert entry.facets["type"] == ("practice",)
    assert set(entry.facets["tag"]) == {"Health", "Digital solutions"}
    assert entry.facets["theme"] == ("digital-health",)
    assert entry.labels["cluster"] == {"cluj-it-cluster": "Cluj IT Cluster"}
    assert entry.labels["country"] == {"RO": "Romania"}
    assert entry.labels["theme"] == {"digital-health": "Digital health"}
    assert entry.labels["industry"]["J"] == Industry.objects.get(code="J").name
    assert "Cluj IT Cluster" in entry.names and "Romania" in entry.names and "Cluj Health Hub" in entry.names
    assert entry.body == "Villages lack doctors & clinics. Shared work."
    assert entry.url == "/clusters/cluj-it-cluster/telemedicine/"
    assert entry.display["cluster"] == "Cluj IT Cluster"
    assert entry.display["industries"] == ["62"]
    assert entry.display["year"] == 2021
    # What a hit shows by name, not by code: industries, countries, the date it was added.
    assert entry.display["industry_names"] == [Industry.objects.get(code="62").name]
    assert entry.display["countries"] == ["Romania"]
    added = Page.objects.get(pk=visibility_kb["telemedicine"].pk).first_published_at
    assert entry.display["added"] == added.date().isoformat()


def test_presentation_takes_cluster_country_and_year_of_its_event(visibility_kb):
    entry = page_entries()[visibility_kb["presentation"].pk]
    assert entry.type == "presentation"
    assert entry.facets["cluster"] == ("cluj-it-cluster",)
    assert entry.facets["year"] == ("2016",)
    assert entry.facets["country"] == ("RO",)
    event = page_entries()[visibility_kb["event"].pk]
    assert event.type == "event" and event.facets["year"] == ("2016",)


def test_theme_facet_only_from_live_themes(visibility_kb):
    visibility_kb["theme"].unpublish()
    assert "theme" not in page_entries()[visibility_kb["telemedicine"].pk].facets


def make_document(title: str, filename: str, units: list[str], unit: str = "page") -> KBDocument:
    doc = KBDocumentFactory(
        title=title,
        file=ContentFile(b"%PDF-1.4 test", name=filename),
        text_status=KBDocument.STATUS_EXTRACTED,
    )
    for n, text in enumerate(units, start=1):
        DocumentTextUnitFactory(document=doc, number=n, unit=unit, text=text)
    return doc


def test_document_pages_become_entries_with_the_page_facets(visibility_kb):
    doc = make_document("Study", "study.pdf", ["Intro page.", "Telemedicine reimbursement in Romania."])
    PracticeDocumentFactory(page=visibility_kb["telemedicine"], document=doc, sort_order=0)
    parts = [e for e in documents.iter_entries([visibility_kb["telemedicine"].pk]) if e.document is not None]
    assert [e.key for e in parts] == [
        f"doc:{visibility_kb['telemedicine'].pk}:{doc.pk}:1",
        f"doc:{visibility_kb['telemedicine'].pk}:{doc.pk}:2",
    ]
    second = parts[1]
    assert second.title == "Page 2 of Study.pdf"
    assert second.url == doc.url + "#page=2"
    assert second.body == "Telemedicine reimbursement in Romania."
    assert second.facets == page_entries()[visibility_kb["telemedicine"].pk].facets
    assert second.document.page == 2 and second.document.unit == "page"


def test_slides_are_titled_by_slide_number(visibility_kb):
    doc = make_document(
        "Cluj IT Cluster - Agritech",
        "Cluj IT Cluster - Agritech.pptx",
        ["a", "b", "c", "d", "e", "f", "Drones."],
        "slide",
    )
    visibility_kb["presentation"].slides = doc
    visibility_kb["presentation"].save_revision().publish()
    parts = [e for e in documents.iter_entries([visibility_kb["presentation"].pk]) if e.document is not None]
    assert parts[6].title == "Slide 7 of Cluj IT Cluster - Agritech.pptx"
    assert parts[6].url == doc.url


def test_documents_in_a_private_collection_are_not_indexed(visibility_kb):
    private = CollectionViewRestrictionFactory(collection__name="Internal").collection
    doc = make_document("Internal", "internal.pdf", ["Salaries."])
    doc.collection = private
    doc.save()
    PracticeDocumentFactory(page=visibility_kb["telemedicine"], document=doc, sort_order=0)
    assert [
        e for e in documents.iter_entries([visibility_kb["telemedicine"].pk]) if e.document is not None
    ] == []


def test_building_every_entry_costs_constant_queries(visibility_kb, django_assert_max_num_queries):
    for n in range(30):
        p = PracticePageFactory(
            parent=visibility_kb["cluj"], title=f"Bulk {n}", slug=f"bulk-{n}", countries=["RO"]
        )
        p.industries.set([Industry.objects.get(code="62")])
        p.tags.add(f"tag{n}")
    with django_assert_max_num_queries(30):
        entries = list(documents.all_entries())
    assert len({e.page_id for e in entries}) == 34


def test_search_through_the_service_sees_only_visible_pages(visibility_kb):
    service.rebuild(progress=False)
    query, _ = parse({"q": "telemedicine"})
    results = service.search(query)
    assert [h.page_id for h in results.hits] == [visibility_kb["telemedicine"].pk]
    suggestions = service.autocomplete("telem")
    assert {s.text for s in suggestions if s.kind == "title"} == {"Telemedicine platform for rural clinics"}


def test_a_scheduled_expiry_takes_the_page_out_of_search_the_moment_it_passes(visibility_kb, monkeypatch):
    later = timezone.now() + datetime.timedelta(hours=1)
    visibility_kb["telemedicine"].expire_at = later
    visibility_kb["telemedicine"].save_revision().publish()
    # The cluster expires sooner than its practice: its practices go with it.
    sooner = timezone.now() + datetime.timedelta(minutes=30)
    Page.objects.filter(pk=visibility_kb["voj"].pk).update(expire_at=sooner)
    entries = page_entries()
    assert entries[visibility_kb["telemedicine"].pk].expires == later
    assert entries[visibility_kb["recycling"].pk].expires == sooner
    service.rebuild(progress=False)

    def found(text):
        return [h.page_id for h in service.search(parse({"q": text})[0]).hits]

    assert found("telemedicine") == [visibility_kb["telemedicine"].pk]
    assert found("recycling") == [visibility_kb["recycling"].pk]
    # The clock of whichever embedded engine is configured.
    from search.engines.fts5 import bitsets
    from search.engines.tantivy import queries

    clock = {"fts5": bitsets, "tantivy": queries}[service.get_engine().name]
    monkeypatch.setattr(clock, "now", lambda: (sooner + datetime.timedelta(seconds=1)).timestamp())
    assert found("recycling") == []
    assert found("telemedicine") == [visibility_kb["telemedicine"].pk]
    monkeypatch.setattr(clock, "now", lambda: (later + datetime.timedelta(seconds=1)).timestamp())
    assert found("telemedicine") == []
    assert not [s for s in service.autocomplete("telem") if s.kind == "title"]
