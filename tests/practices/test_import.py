import copy
import csv
import json

import pytest

from django.core.management import call_command
from django.db import DatabaseError

from taggit.models import Tag
from wagtail.models import Page, PageLogEntry, Revision

from practices import ce_source
from practices.factories import ClusterPageFactory, make_site
from practices.imports.format import html_to_text, text_to_html
from practices.imports.importer import Importer
from practices.imports.validation import Validator
from practices.models import ClusterPage, PracticePage, PracticePageTag
from practices.signals import practices_imported
from tests.imports import import_records, import_text

pytestmark = pytest.mark.django_db


def record(n, **over):
    rec = {
        "external_id": f"t-{n}",
        "title": f"Shared lab number {n}",
        "summary": "Firms share one lab.",
        "challenge": "Small firms cannot test alone.",
        "solution": "A shared lab.\nOpen two days a week.",
        "results": "",
        "transferability": "",
        "cluster": "Cluj IT Cluster",
        "country": "RO",
        "industries": ["J", "62"],
        "tags": ["cloud", "Agritech"],
        "organisation": "Cluj IT",
        "organisation_type": "Cluster",
        "language": "English",
        "year": 2016,
        "link": "https://example.org/lab",
    }
    rec.update(over)
    return rec


def jsonl(records):
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


@pytest.fixture(scope="module")
def import_site_data(shared_db):
    return make_site()


@pytest.fixture
def site(import_site_data, db):
    """An empty site to import into: built once per module, each test's import rolled back."""
    return copy.deepcopy(import_site_data)


def assert_tree_sound():
    problems = Page.find_problems()
    assert all(not p for p in problems), problems
    for page in PracticePage.objects.all():
        parent = page.get_parent()
        assert page.url_path == parent.url_path + page.slug + "/"
        assert page.latest_revision is not None
        assert page.latest_revision.object_id == str(page.pk)
    for page in Page.objects.all():
        assert page.numchild == page.get_children().count()


MIXED = [
    record(1),
    record(2, cluster="Vojvodina ICT Cluster", country="XK", industries=["E"]),
    record(3, title=""),
    record(4, cluster=None),
    record(5, industries=["J", "00"]),
    record(6, country="YU"),
    record(7, year="2015"),
    '{"external_id": "t-8", "title": ',
    record(9, tags="cloud"),
    record(1, title="Same id again"),
    record(10, link="not a link"),
    "[1, 2]",
    record(11, challenge="<script>alert(1)</script> & more"),
]


def test_mixed_file_reports_each_rejection_by_line(site):
    report = import_text(jsonl(MIXED), publish=True)
    assert report.summary() == "3 created, 0 updated, 0 unchanged, 10 rejected"
    reasons = {r.line: r.reason for r in report.rejected}
    assert reasons[3] == "missing title"
    assert reasons[4] == "missing cluster"
    assert "unknown NACE Rev. 2 code '00'" in reasons[5]
    assert "unknown country code 'YU'" in reasons[6]
    assert "year must be a whole number" in reasons[7]
    assert reasons[8].startswith("broken JSON")
    assert reasons[9] == "tags must be a list of strings"
    assert reasons[10] == "external_id already used on line 1"
    assert "link is not a web address" in reasons[11]
    assert reasons[12] == "a record must be a JSON object"
    assert {r.external_id for r in report.rejected if r.line == 6} == {"t-6"}
    assert sorted(PracticePage.objects.values_list("external_id", flat=True)) == ["t-1", "t-11", "t-2"]


def test_created_pages_are_sound_wagtail_pages(site, client):
    import_text(jsonl(MIXED), publish=True)
    assert_tree_sound()
    page = PracticePage.objects.get(external_id="t-1")
    assert page.live and not page.has_unpublished_changes
    assert page.first_published_at is not None and page.live_revision_id == page.latest_revision_id
    assert page.get_parent().title == "Cluj IT Cluster"
    assert sorted(i.code for i in page.industries.all()) == ["62", "J"]
    assert sorted(t.name for t in page.tags.all()) == ["Agritech", "cloud"]
    assert [str(c) for c in page.countries] == ["RO"]
    assert page.solution == "<p>A shared lab.</p><p>Open two days a week.</p>"
    assert page.start_year == 2016 and page.source_link == "https://example.org/lab"
    assert PracticePage.objects.live().public().count() == 3
    assert PageLogEntry.objects.filter(page=page, action="wagtail.publish").count() == 1

    escaped = PracticePage.objects.get(external_id="t-11")
    assert escaped.challenge == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</p>"

    response = client.get(page.url)
    assert response.status_code == 200
    assert b"Shared lab number 1" in response.content

    # The revision holds the whole page, so editing through Wagtail keeps tags and industries.
    draft = page.get_latest_revision_as_object()
    assert sorted(t.name for t in draft.tags.all()) == ["Agritech", "cloud"]
    draft.title = "Edited"
    draft.save_revision().publish()
    page.refresh_from_db()
    assert page.title == "Edited" and sorted(i.code for i in page.industries.all()) == ["62", "J"]
    assert_tree_sound()


def test_clusters_are_created_once_and_platforms_are_sources(site):
    existing = ClusterPageFactory(parent=site["clusters"], title="Cluj IT Cluster")
    import_records(
        [record(1), record(2, cluster=ce_source.PUBLISHER), record(3, cluster=ce_source.PUBLISHER)],
        publish=True,
    )
    assert PracticePage.objects.get(external_id="t-1").get_parent().pk == existing.pk
    platform = ClusterPage.objects.get(title=ce_source.PUBLISHER)
    assert platform.kind == ClusterPage.KIND_SOURCE and platform.live
    assert platform.get_children().count() == 2
    assert_tree_sound()


def test_reimport_updates_without_duplicating(site):
    records = [record(n) for n in range(1, 6)]
    import_records(records, publish=True)
    revisions = Revision.objects.count()

    again = import_records(records, publish=True)
    assert again.summary() == "0 created, 0 updated, 5 unchanged, 0 rejected"
    assert Revision.objects.count() == revisions

    records[2] = record(3, title="Renamed lab", tags=["cloud", "energy"], industries=["E"])
    changed = import_records(records, publish=True)
    assert changed.summary() == "0 created, 1 updated, 4 unchanged, 0 rejected"
    assert PracticePage.objects.count() == 5
    page = PracticePage.objects.get(external_id="t-3")
    assert page.title == "Renamed lab"
    assert sorted(t.name for t in page.tags.all()) == ["cloud", "energy"]
    assert [i.code for i in page.industries.all()] == ["E"]
    assert Revision.objects.filter(object_id=str(page.pk)).count() == 2
    assert_tree_sound()

    # Order and case of tags and countries carry no meaning.
    assert (
        import_records([record(1, tags=["agritech", "Cloud"], countries=["XK"])], publish=True).updated == 1
    )
    reordered = record(1, tags=["CLOUD", "Agritech"], countries=["XK", "RO"], country="")
    assert import_records([reordered], publish=True).unchanged == 1


def test_drafts_by_default_and_dry_run_writes_nothing(site):
    dry = import_records([record(1), record(2, title="")], dry_run=True)
    assert dry.summary() == "1 created, 0 updated, 0 unchanged, 1 rejected"
    assert not PracticePage.objects.exists() and not ClusterPage.objects.exists()

    import_records([record(1)])
    page = PracticePage.objects.get()
    assert not page.live and page.has_unpublished_changes and page.live_revision is None
    assert not PracticePage.objects.live().exists()
    assert not page.get_parent().live

    # Publishing later counts as an update, since the live state changes.
    published = import_records([record(1)], publish=True)
    assert published.updated == 1
    page.refresh_from_db()
    assert page.live


def test_interrupted_batch_is_all_or_nothing_and_rerun_completes(site, monkeypatch):
    records = [record(n, tags=[f"tag{n}"]) for n in range(1, 8)]
    calls = {"n": 0}
    real = Revision.objects.bulk_create

    def failing(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise DatabaseError("disk full")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Revision.objects, "bulk_create", failing)
    with pytest.raises(DatabaseError):
        import_records(records, publish=True, batch_size=3)
    assert sorted(PracticePage.objects.values_list("external_id", flat=True)) == ["t-1", "t-2", "t-3"]
    assert Page.objects.filter(depth=5).count() == 3
    assert PracticePageTag.objects.count() == 3
    assert_tree_sound()

    monkeypatch.setattr(Revision.objects, "bulk_create", real)
    report = import_records(records, publish=True, batch_size=3)
    assert report.summary() == "4 created, 0 updated, 3 unchanged, 0 rejected"
    assert PracticePage.objects.count() == 7
    assert_tree_sound()


def test_each_batch_is_announced_with_its_page_ids(site):
    received = []

    def receiver(sender, page_ids, **kwargs):
        received.append(sorted(page_ids))

    practices_imported.connect(receiver)
    try:
        report = import_records([record(n) for n in range(1, 6)], publish=True, batch_size=2)
    finally:
        practices_imported.disconnect(receiver)
    assert [len(ids) for ids in received] == [2, 2, 1]
    assert sorted(i for ids in received for i in ids) == sorted(report.page_ids)
    assert set(report.page_ids) == set(PracticePage.objects.values_list("pk", flat=True))


def test_csv_with_semicolon_lists(site):
    text = (
        "external_id,title,cluster,country,industries,tags,year,link\n"
        "c-1,CSV practice,Cluj IT Cluster,RS,J;62,cloud; data ,2019,\n"
        "c-2,Bad year,Cluj IT Cluster,RS,J,,soon,\n"
    )
    report = import_text(text, fmt="csv", publish=True)
    assert report.summary() == "1 created, 0 updated, 0 unchanged, 1 rejected"
    assert report.rejected[0].line == 3
    page = PracticePage.objects.get()
    assert sorted(t.name for t in page.tags.all()) == ["cloud", "data"]
    assert page.start_year == 2019


def test_tags_match_case_insensitively(site):
    Tag.objects.create(name="Cloud")
    import_records([record(1, tags=["cloud"])], publish=True)
    assert list(Tag.objects.filter(name__iexact="cloud").values_list("name", flat=True)) == ["Cloud"]


def test_slugs_stay_unique_among_siblings(site):
    import_records([record(1, title="Same"), record(2, title="Same")], publish=True)
    import_records([record(3, title="Same")], publish=True)
    assert sorted(PracticePage.objects.values_list("slug", flat=True)) == ["same", "same-2", "same-3"]
    assert_tree_sound()


def test_command_prints_report_and_counts(site, tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl([record(1), record(2, country="ZZ")]))
    call_command("import_practices", str(path), "--publish", verbosity=0)
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "1 created, 0 updated, 0 unchanged, 1 rejected"
    assert "line 2 (t-2): unknown country code 'ZZ'" in err


def test_ce_source_maps_every_real_practice(site):
    records = list(ce_source.records())
    assert len(records) == 787
    assert records[0]["external_id"] == "ce-00000" and records[-1]["external_id"] == "ce-00786"
    assert {r["cluster"] for r in records} == {ce_source.PUBLISHER}
    assert all(r["industries_inferred"] and r["year"] is None for r in records)
    validate = Validator()
    for r in records:
        validate(r)


def test_ce_source_imports_as_published_platform_practices(site):
    records = list(ce_source.records())[:40]
    report = Importer(publish=True).run(enumerate(records, start=1))
    assert report.created == 40 and not report.rejected
    page = PracticePage.objects.get(external_id="ce-00000")
    assert page.industries_inferred and page.source_link.startswith("http")
    assert page.get_parent().specific.kind == ClusterPage.KIND_SOURCE


@pytest.mark.parametrize(
    "text",
    ["One line.", "First.\nSecond & <third>.", "  padded  \n\n\nafter blanks"],
)
def test_text_round_trips_through_rich_text(text):
    html = text_to_html(text)
    assert html_to_text(html) == "\n".join(line.strip() for line in text.splitlines() if line.strip())
    assert text_to_html(html_to_text(html)) == html


def test_ce_sectors_split_by_their_names_not_by_every_comma():
    assert ce_source.sectors("Plastics, Polymers and Rubber, Recycling, Food, water and nutrients") == [
        "Plastics, Polymers and Rubber",
        "Recycling",
        "Food, water and nutrients",
    ]
    # An unknown value runs to the next comma outside its brackets and is kept as written.
    assert ce_source.sectors("Other (a, b), Reuse") == ["Other (a, b)", "Reuse"]
    assert ce_source.sectors("N/A") == []


def test_ce_industries_are_the_sectors_divisions_with_the_key_area_fallback():
    assert ce_source.industries(["Electronics and ICT", "Recycling"], ["Consumption"]) == [
        "26",
        "38",
        "61",
        "62",
    ]
    # No sector names an activity: waste-management key areas give 38, production section C.
    assert ce_source.industries(["Reuse"], ["Production", "Waste management"]) == ["38", "C"]
    assert ce_source.industries(["Reuse"], ["Consumption"]) == []


def test_ce_records_classified_from_the_sector_table():
    records = list(ce_source.records())
    counts = {}
    for r in records:
        for tag in r["tags"]:
            counts[tag] = counts.get(tag, 0) + 1
    # Every sector of the table carries exactly as many records as the table says.
    with ce_source.SECTORS_PATH.open(encoding="utf-8") as f:
        table = {row["sector"]: int(row["records"]) for row in csv.DictReader(f)}
    assert {name: counts.get(name, 0) for name in table} == table
    assert not any(t in {"apparel and leather", "water and nutrients", "Polymers and Rubber"} for t in counts)
    classified = [r for r in records if r["industries"]]
    assert len(classified) == 776  # 743 by their sectors, 33 by the key-area fallback
    ict = {"58", "59", "60", "61", "62", "63"}
    digital = {
        r["external_id"] for r in records if {"Digital solutions", "Electronics and ICT"} & set(r["tags"])
    }
    assert {r["external_id"] for r in records if ict & set(r["industries"])} == digital
    # Nothing lands in accommodation or finance any more.
    assert not any(set(r["industries"]) & {"I", "K", "55", "56", "64", "65", "66"} for r in records)


def test_an_install_imported_the_old_way_corrects_itself(site):
    new = list(ce_source.records())[:60]
    old = [
        {**r, "industries": ["G", "I"], "tags": [t for tag in r["tags"] for t in tag.split(", ")][:6]}
        for r in new
    ]
    import_records(old, publish=True)
    revisions = Revision.objects.count()

    fixed = import_records(new, publish=True)
    assert fixed.created == 0 and fixed.updated == 60
    assert Revision.objects.count() == revisions + 60
    page = PracticePage.objects.get(external_id=new[0]["external_id"])
    assert sorted(i.code for i in page.industries.all()) == new[0]["industries"]
    assert sorted(t.name for t in page.tags.all()) == sorted(new[0]["tags"])

    again = import_records(new, publish=True)
    assert again.summary() == "0 created, 0 updated, 60 unchanged, 0 rejected"
    assert Revision.objects.count() == revisions + 60
