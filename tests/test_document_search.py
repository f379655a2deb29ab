"""Issue 6 end to end: a slide's text is found at its slide, follows its page's visibility and facets."""

import copy

import pytest

from django.core.files.base import ContentFile

from wagtail.models import Collection

from practices.factories import (
    ClusterPageFactory,
    CollectionViewRestrictionFactory,
    EventPageFactory,
    KBDocumentFactory,
    PageViewRestrictionFactory,
    PresentationPageFactory,
    make_site,
)
from practices.models import Industry, KBDocument
from search import service
from search.query import parse
from tests.on_commit import run_on_commit
from tests.practices.files import pdf_bytes, write_pptx


@pytest.fixture(scope="module")
def docsearch_kb_data(shared_db):
    tree = make_site()
    cluster = ClusterPageFactory(
        parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj-it-cluster", country="RO"
    )
    event = EventPageFactory(parent=tree["events"], title="Belgrade meeting")
    event.save_revision().publish()
    deck = write_pptx(
        shared_db / "deck.pptx",
        [
            ("Welcome", "Who we are"),
            ("Partnerships", "Vineyard sensors shared by farmers"),
            ("Next", "Questions"),
        ],
    )
    with run_on_commit():  # the text extraction
        slides = KBDocumentFactory(
            title="Cluj IT Cluster - Agritech partnerships",
            file=ContentFile(deck.read_bytes(), name="agritech.pptx"),
        )
    slides.refresh_from_db()
    assert slides.text_status == KBDocument.STATUS_EXTRACTED
    presentation = PresentationPageFactory(
        parent=event, title="Agritech partnerships", presenting_cluster=cluster, slides=slides
    )
    presentation.industries.set(Industry.objects.filter(code="A"))
    presentation.save_revision().publish()
    service.rebuild(progress=False)
    return {**tree, "cluster": cluster, "event": event, "presentation": presentation, "slides": slides}


@pytest.fixture
def docsearch_kb(docsearch_kb_data, db):
    """A presentation with extracted slides, published and indexed: built once per module. A test's
    writes reach the index through ``run_on_commit``."""
    service.reset_engine()
    yield copy.deepcopy(docsearch_kb_data)
    service.reset_engine()


def search(text, **filters):
    query, _ = parse({"q": text, **filters})
    return service.search(query)


def test_a_phrase_is_found_at_its_slide_with_a_link(docsearch_kb, client):
    hits = [h for h in search("vineyard sensors").hits if h.document]
    assert len(hits) == 1
    hit = hits[0]
    assert hit.page_id == docsearch_kb["presentation"].pk
    assert hit.document.page == 2 and hit.document.unit == "slide"
    assert "Slide 2 of" in hit.title and "Agritech partnerships" in hit.title
    assert "<mark>" in hit.snippet_html
    response = client.get("/search/", {"q": "vineyard sensors"})
    html = response.content.decode()
    assert "Slide 2 of" in html
    # The card is titled by its page; "Slide 2 of ..." is the line beneath, and the snippet does not
    # repeat the slide's title.
    card = next(c for c in response.context["cards"] if c["hit"].document)
    assert card["title_html"] == "Agritech partnerships"
    assert card["url"] == docsearch_kb["presentation"].url
    assert "Slide 2 of" in card["part_html"] and card["part_url"] == hit.url
    assert card["part_title"] == "Partnerships"
    assert card["snippet_html"] == "<mark>Vineyard</mark> <mark>sensors</mark> shared by farmers"
    assert html.index('class="hit-title"><a href="' + docsearch_kb["presentation"].url) < html.index(
        'class="hit-part"'
    )


def test_pdf_hits_link_to_their_page(docsearch_kb, client):
    with run_on_commit():
        pdf = KBDocumentFactory(
            title="Report",
            file=ContentFile(pdf_bytes([["Intro"], ["Hydroponic greenhouse"]]), name="report.pdf"),
        )
    docsearch_kb["presentation"].slides = pdf
    with run_on_commit():
        docsearch_kb["presentation"].save_revision().publish()
    hits = [h for h in search("hydroponic").hits if h.document]
    assert [h.document.page for h in hits] == [2]
    assert hits[0].url.endswith("#page=2")


def test_page_links_follow_the_detected_type_not_the_name(docsearch_kb):
    # Stored before uploads were checked against their name: a PDF named .pptx still links to its page.
    with run_on_commit():
        pdf = KBDocumentFactory(
            title="Legacy", file=ContentFile(pdf_bytes([["Intro"], ["Aquaponic farms"]]), name="legacy.pptx")
        )
    pdf.refresh_from_db()
    assert pdf.content_kind == "pdf"
    docsearch_kb["presentation"].slides = pdf
    with run_on_commit():
        docsearch_kb["presentation"].save_revision().publish()
    hits = [h for h in search("aquaponic").hits if h.document]
    assert [h.url.rsplit("#", 1)[-1] for h in hits] == ["page=2"]


def test_facets_apply_to_document_hits_through_their_page(docsearch_kb):
    assert search("vineyard", industry="A").total >= 1
    assert search("vineyard", industry="C").total == 0
    assert search("vineyard", cluster="cluj-it-cluster").total >= 1
    assert search("vineyard", type="practice").total == 0


def test_unpublishing_the_page_takes_its_document_text_out(docsearch_kb):
    with run_on_commit():
        docsearch_kb["presentation"].unpublish()
    assert search("vineyard").total == 0


def test_document_text_of_a_private_page_is_not_found(docsearch_kb):
    with run_on_commit():
        PageViewRestrictionFactory(page=docsearch_kb["event"])
    assert search("vineyard").total == 0


def test_deleting_a_document_takes_its_text_out(docsearch_kb):
    with run_on_commit():
        docsearch_kb["slides"].delete()
    assert search("vineyard").total == 0
    assert search("agritech partnerships").total >= 1  # the page itself stays


def test_restricting_a_documents_collection_takes_its_text_out_until_lifted(docsearch_kb):
    with run_on_commit():
        restriction = CollectionViewRestrictionFactory(collection=Collection.get_first_root_node())
    assert search("vineyard").total == 0
    with run_on_commit():
        restriction.delete()
    assert search("vineyard").total >= 1


def test_moving_a_document_into_a_restricted_collection_takes_its_text_out(docsearch_kb):
    private = CollectionViewRestrictionFactory(collection__name="Board papers").collection
    assert search("vineyard").total >= 1
    docsearch_kb["slides"].collection = private
    with run_on_commit():
        docsearch_kb["slides"].save()
    assert search("vineyard").total == 0


def test_re_extraction_updates_the_index(docsearch_kb):
    from practices.document_text import extract_document

    other = write_pptx(docsearch_kb["slides"].file.path + ".new.pptx", [("Only", "Beekeeping drones")])
    with open(other, "rb") as f, run_on_commit():
        docsearch_kb["slides"].file.save("agritech2.pptx", ContentFile(f.read()), save=True)
        extract_document(docsearch_kb["slides"])
    assert search("beekeeping").total >= 1
    assert search("vineyard").total == 0
