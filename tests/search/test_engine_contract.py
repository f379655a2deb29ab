"""The one engine-agnostic suite: every engine behaves the same on the same knowledge base."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.query import FACETS, Query, parse_terms
from tests.search.conftest import corpus, entry


def q(text: str = "", **kw) -> Query:
    filters = kw.pop("filters", {})
    return Query(text=text, terms=parse_terms(text), filters=MappingProxyType(filters), **kw)


def keys(engine, text: str = "", **kw) -> list[str]:
    return [h.key for h in engine.search(q(text, per_page=50, **kw)).hits]


def test_title_match_outranks_body_match(loaded):
    found = keys(loaded, "telemedicine")
    assert set(found) == {"page:1", "page:2", "doc:10:77:3"}
    assert found.index("page:1") < found.index("page:2")
    assert found.index("doc:10:77:3") < found.index("page:2")


def test_words_are_anded(loaded):
    assert keys(loaded, "telemedicine portal") == ["page:2"]
    assert keys(loaded, "telemedicine zebra") == []


def test_any_words_mode_ranks_entries_with_more_of_the_words_first(loaded):
    assert keys(loaded, "telemedicine zebra") == []
    found = keys(loaded, "telemedicine portal zebra", match_any=True)
    assert set(found) == {"page:1", "page:2", "doc:10:77:3"}
    assert found[0] == "page:2"  # the only entry with two of the three words
    assert set(keys(loaded, "telemedicine portal -portal", match_any=True)) == set(
        keys(loaded, "telemedicine -portal")
    )


def test_phrase_needs_the_words_together_in_order(loaded):
    assert set(keys(loaded, '"circular economy"')) == {"page:3", "page:7", "page:9"}
    assert "page:9" in keys(loaded, "circular economy")
    assert keys(loaded, '"economy circular"') == ["page:9"]


def test_exclusion(loaded):
    assert set(keys(loaded, "telemedicine -portal")) == {"page:1", "doc:10:77:3"}


def test_only_exclusions_browse_everything_else(loaded):
    found = keys(loaded, "-telemedicine")
    assert len(found) == len(corpus()) - 3
    assert not {"page:1", "page:2", "doc:10:77:3"} & set(found)


def test_prefix(loaded):
    assert set(keys(loaded, "teleme*")) == {"page:1", "page:2", "doc:10:77:3"}
    assert keys(loaded, "teleme") == []


def test_a_prefix_is_not_stemmed(loaded):
    # "recy" stems to "reci": a stemmed prefix would miss "recycling" and find "recipe".
    shorter, longer = set(keys(loaded, "recy*")), set(keys(loaded, "recyc*"))
    assert "page:3" in longer and shorter >= longer
    assert shorter == set(keys(loaded, "recycl*")) == set(keys(loaded, "recycling"))
    assert "page:3" in keys(loaded, "recy* electronic")
    assert "page:3" not in keys(loaded, "electronic -recy*")
    assert keys(loaded, "recyz*") == [] and keys(loaded, "recyz* telemedicine") == []
    assert set(keys(loaded, "recyz* telemedicine", match_any=True)) == set(keys(loaded, "telemedicine"))


def test_stemming(loaded):
    assert keys(loaded, "recycle") == ["page:3"]
    assert keys(loaded, "recycled") == ["page:3"]
    assert "page:11" in keys(loaded, "teacher")


def test_diacritics_fold_both_ways(loaded):
    assert keys(loaded, "cacak") == ["page:6"]
    assert keys(loaded, "Čačak") == ["page:6"]
    assert keys(loaded, "TIMISOARA") == ["page:6"]


def test_cyrillic_and_latin_find_each_other(loaded):
    assert keys(loaded, "Djordje") == ["page:5"]
    assert keys(loaded, "Đorđe") == ["page:5"]
    assert keys(loaded, "mentorstvo") == ["page:5"]
    assert set(keys(loaded, "Нови Сад")) == {"page:4", "page:11"}
    assert set(keys(loaded, "novi sad")) == {"page:4", "page:11"}


def matches_filters(e, filters: dict, within: tuple[str, ...] = ()) -> bool:
    if within and not any(e.path.startswith(p) for p in within):
        return False
    return all(set(e.facets.get(f, ())) & set(vs) for f, vs in filters.items())


def test_facet_counts_match_brute_force(loaded):
    entries = corpus()
    rng = random.Random(7)
    all_values = {f: sorted({v for e in entries for v in e.facets.get(f, ())}) for f in FACETS}
    for _ in range(12):
        filters = {}
        for f in rng.sample([f for f in FACETS if all_values[f]], k=rng.randint(0, 3)):
            filters[f] = tuple(rng.sample(all_values[f], k=rng.randint(1, min(2, len(all_values[f])))))
        text = rng.choice(["", "telemedicine", "circular", "-security"])
        matching = set(keys(loaded, text)) if text else {e.key for e in page_entries()}
        if text.startswith("-"):
            matching = set(keys(loaded, text))
        results = loaded.search(q(text, filters=filters))
        pool = [e for e in entries if e.key in matching]
        assert results.total == sum(matches_filters(e, filters) for e in pool), (text, filters)
        for facet in FACETS:
            others = {k: v for k, v in filters.items() if k != facet}
            expected = {}
            for e in pool:
                if matches_filters(e, others):
                    for v in e.facets.get(facet, ()):
                        expected[v] = expected.get(v, 0) + 1
            got = {c.value: c.count for c in results.facets[facet]}
            for v in filters.get(facet, ()):
                expected.setdefault(v, 0)
            assert got == expected, (text, filters, facet)
            assert {c.value for c in results.facets[facet] if c.selected} == set(filters.get(facet, ()))


def test_facets_are_sorted_and_labelled(loaded):
    facets = loaded.search(q("")).facets
    cluster = facets["cluster"]
    assert [c.count for c in cluster] == sorted((c.count for c in cluster), reverse=True)
    assert {c.value: c.label for c in cluster}["cluj-it"] == "Cluj IT Cluster"
    assert {c.value: c.label for c in facets["country"]}["RS"] == "RS"


def test_every_value_of_a_long_facet_is_counted_and_selected_ones_kept(engine):
    many = [entry(i, f"Practice {i}", tags=(f"Tag{i:02d}",) * 1 + ("Common",)) for i in range(1, 41)]
    engine.rebuild(many)
    results = engine.search(q("", filters={"tag": ("tag40",)}))
    assert results.total == 1
    tags = results.facets["tag"]
    # Past the page's first few, every value stays reachable (the cap is search.facets.FACET_CAP).
    assert len(tags) == 41
    assert any(c.value == "tag40" and c.selected for c in tags)
    assert tags[0].value == "common"


def test_empty_query_browses_newest_first_with_filters(loaded):
    found = keys(loaded, filters={"country": ("RS",)})
    assert found == ["page:11", "page:4", "page:2", "page:5"]


def test_within_limits_to_a_site(loaded):
    assert keys(loaded, "teachers") == ["page:11"]
    assert keys(loaded, "teachers", within=("00010001",)) == []
    assert keys(loaded, "novi", within=("00010002",)) == ["page:11"]
    results = loaded.search(q("", within=("00010002",)))
    assert results.total == 1
    assert {c.value: c.count for c in results.facets["country"]} == {"RS": 1}


def page_entries():
    return [e for e in corpus() if e.document is None]


def test_a_browse_lists_pages_and_words_find_document_parts(loaded):
    """With no words, a document's parts are neither hits nor counted: a page is listed and counted
    once, so a browse's facet count is the total of the search its value opens."""
    browse = loaded.search(q(per_page=50))
    assert {h.key for h in browse.hits} == {e.key for e in page_entries()}
    assert browse.total == len(page_entries())
    assert {c.value: c.count for c in browse.facets["type"]} == {"practice": len(page_entries())}
    only_type = loaded.search(q(filters={"type": ("presentation",)}))
    assert (only_type.total, only_type.hits) == (0, [])
    # Exclusions alone browse too.
    assert "doc:10:77:3" not in keys(loaded, "-security")
    # Words reach into documents, and the part counts under its page's facets.
    found = loaded.search(q("reimbursement"))
    assert [h.key for h in found.hits] == ["doc:10:77:3"]
    assert {c.value: c.count for c in found.facets["type"]} == {"presentation": 1}


def test_sort_orders(loaded):
    newest = keys(loaded, sort="newest")
    assert newest[0] == "page:11"
    assert newest[-1] == "page:7"  # no date: last
    by_title = [h.title for h in loaded.search(q(sort="title", per_page=50)).hits]
    assert by_title[0].startswith("<script>")
    # A document part (found by its words) sorts by its own title among the pages.
    assert [h.title for h in loaded.search(q("telemedicine", sort="title")).hits] == [
        "Meeting slides on telemedicine",
        "Open data portal",
        "Telemedicine platform for rural clinics",
    ]
    # Sorted as normalised: "Ђорђе" as "djordje", between "Digital" and "Economy".
    djordje = by_title.index("Ђорђе Петровић ментор програм")
    assert by_title.index("Digital skills for teachers") < djordje < by_title.index("Economy circular")


def test_pagination_and_total(loaded):
    first = loaded.search(q(sort="newest", per_page=4))
    second = loaded.search(q(sort="newest", per_page=4, page=2))
    last = loaded.search(q(sort="newest", per_page=4, page=3))
    assert first.total == second.total == last.total == len(page_entries())
    pages = [h.key for r in (first, second, last) for h in r.hits]
    assert pages == keys(loaded, sort="newest")
    assert len(last.hits) == 2
    assert loaded.search(q(per_page=4, page=9)).hits == []


def test_upsert_remove_and_rebuild(loaded):
    assert loaded.count() == len(corpus())
    changed = entry(2, "Open data portal", "The city publishes contracts.", "Nothing medical now.")
    assert loaded.index([changed]) == 1
    assert loaded.count() == len(corpus())
    assert "page:2" not in keys(loaded, "telemedicine")
    assert keys(loaded, "contracts") == ["page:2"]
    assert loaded.remove_pages([10, 3]) == 2
    assert 10 not in loaded.page_ids() and 3 not in loaded.page_ids()
    assert keys(loaded, "telemedicine") == ["page:1"]
    assert keys(loaded, "recycling") == []
    loaded.rebuild(corpus()[:2])
    assert loaded.page_ids() == {1, 2}
    assert keys(loaded, "recycling") == []


def test_search_keeps_working_while_the_index_is_written(loaded):
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher():
        try:
            while not stop.is_set():
                assert loaded.search(q("telemedicine")).total >= 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for t in threads:
        t.start()
    extra = [entry(100 + i, f"Extra practice {i}", "telemedicine", cluster="cluj-it") for i in range(30)]
    for i in range(0, 30, 10):
        loaded.index(extra[i : i + 10])
    loaded.rebuild(corpus() + extra)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert loaded.search(q("telemedicine")).total == 33


def test_autocomplete(loaded):
    got = loaded.autocomplete("нови")
    assert any(
        s.kind == "title" and s.text == "Smart city sensors in Novi Sad" and s.url == "/practices/4/"
        for s in got
    )
    got = loaded.autocomplete("digi")
    assert any(s.kind == "tag" and s.value == "digital-solutions" for s in got)
    assert any(s.kind == "title" and s.text == "Digital skills for teachers" for s in got)
    got = loaded.autocomplete("vojv")
    assert any(s.kind == "cluster" and s.value == "vojvodina-ict" for s in got)
    got = loaded.autocomplete("manuf")
    assert any(s.kind == "industry" and s.value == "C" for s in got)
    assert loaded.autocomplete("zzzz") == []
    assert len(loaded.autocomplete("t", limit=2)) <= 2


def test_autocomplete_forgets_removed_entries_and_honours_within(loaded):
    assert any(s.kind == "tag" and s.value == "mentoring" for s in loaded.autocomplete("ment"))
    loaded.remove_pages([5])
    assert not any(s.value == "mentoring" or "Петровић" in s.text for s in loaded.autocomplete("ment"))
    assert [s.text for s in loaded.autocomplete("digital skills", within=("00010002",))] == [
        "Digital skills for teachers"
    ]
    assert not any(s.kind == "title" for s in loaded.autocomplete("smart", within=("00010002",)))


def test_spelling_suggestion(loaded):
    results = loaded.search(q("telemedcine"))
    assert results.total == 0
    assert results.correction == "telemedicine"
    assert loaded.search(q("rural telemedcine")).correction == "rural telemedicine"
    assert loaded.search(q("telemedicine")).correction is None
    assert loaded.search(q("recycle")).correction is None
    # A short word is corrected by one edit at most ("otpad" must not become "opted").
    assert loaded.search(q("rurla")).correction == "rural"
    assert loaded.search(q("rarul")).correction is None


def test_highlights_escape_content_and_mark_matches(loaded):
    hit = loaded.search(q("security")).hits[0]
    assert hit.key == "page:8"
    assert "<script>" not in hit.title_html
    assert hit.title_html.startswith("&lt;script&gt;alert(1)&lt;/script&gt; <mark>security</mark>")
    assert "&lt;b&gt;safe&lt;/b&gt;" in hit.snippet_html and "&amp;" in hit.snippet_html
    assert "<mark>Security</mark> awareness" in hit.snippet_html
    hit = loaded.search(q("recycle")).hits[0]
    assert "<mark>Recycling</mark>" in hit.title_html
    assert "<mark>Recycled</mark>" in hit.snippet_html
    hit = loaded.search(q("novi sad")).hits[0]
    assert "<mark>Нови</mark> <mark>Сад</mark>" in hit.snippet_html


def test_hits_carry_display_and_document(loaded):
    hits = {h.key: h for h in loaded.search(q("telemedicine")).hits}
    doc = hits["doc:10:77:3"]
    assert doc.document is not None and doc.document.url == "/documents/77/slides.pdf#page=3"
    assert doc.page_id == 10 and doc.type == "presentation"
    assert hits["page:1"].display == {"cluster": "Cluj IT Cluster", "n": 1}
    assert hits["page:1"].document is None


def test_dates_without_timezone_sort_with_the_others(engine):
    engine.rebuild(
        [
            entry(1, "Old", date=datetime(2001, 1, 1)),
            entry(2, "New", date=datetime(2030, 1, 1, tzinfo=UTC)),
            entry(3, "Middle", date=datetime(2015, 1, 1)),
        ]
    )
    assert keys(engine, sort="newest") == ["page:2", "page:3", "page:1"]


BAD = [
    '"',
    "(",
    ")",
    ":",
    "AND",
    "NEAR",
    "*",
    "NOT",
    "a OR",
    "'; DROP TABLE entries; --",
    "🙂",
    "x" * 10000,
    "\x00a\x00",
]


def test_hostile_inputs_never_raise(loaded):
    for text in BAD + [" ".join(BAD), '"' + "a " * 200, "-", "--x", "title:x", "NEAR(a b)", "^x", "a* * *"]:
        results = loaded.search(q(text))
        assert results.total >= 0
        loaded.autocomplete(text)
    assert loaded.count() == len(corpus())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_any_text_never_raises(loaded, text):
    results = loaded.search(q(text))
    assert 0 <= results.total <= len(corpus())
    assert isinstance(loaded.autocomplete(text), list)


def test_an_entry_leaves_results_counts_and_suggestions_once_its_expiry_passes(engine):
    now = datetime.now(UTC)
    engine.rebuild(
        [
            entry(1, "Hydroponic greenhouse sensors", tags=("Agritech",), cluster="cluj-it", expires=now),
            entry(2, "Hydroponic farming school", cluster="vojvodina-ict", expires=now + timedelta(days=30)),
            entry(3, "Hydroponic fish tanks", cluster="vojvodina-ict"),
        ]
    )
    results = engine.search(q("hydroponic"))
    assert sorted(h.key for h in results.hits) == ["page:2", "page:3"]
    assert results.total == 2
    counts = {c.value: c.count for c in results.facets["cluster"]}
    assert counts == {"vojvodina-ict": 2}
    assert engine.search(q("")).total == 2
    suggested = engine.autocomplete("hydro")
    assert "Hydroponic greenhouse sensors" not in {s.text for s in suggested}
    assert "Hydroponic fish tanks" in {s.text for s in suggested}
    assert not any(s.kind == "tag" for s in engine.autocomplete("agrit"))


def test_similar_finds_other_practices_like_the_pages_own_entry(loaded):
    found = [h.key for h in loaded.similar(7)]
    assert found and "page:7" not in found
    assert {"page:3", "page:9"} <= set(found)  # the other circular-economy practices
    # The telemedicine page is like the other digital-solutions practice, never like a document
    # part or a presentation, however close their text.
    found = [h.key for h in loaded.similar(1, limit=10)]
    assert "page:11" in found and "page:1" not in found
    assert all(k.startswith("page:") for k in found)
    hits = loaded.similar(1, limit=10)
    assert all(h.type == "practice" and h.document is None for h in hits)
    assert hits[0].url and hits[0].title and hits[0].display["cluster"]


def test_similar_honours_limit_within_expiry_and_unknown_pages(loaded):
    assert len(loaded.similar(7, limit=1)) == 1
    assert loaded.similar(7, limit=0) == []
    # Page 11 lives under another site root.
    assert "page:11" not in [h.key for h in loaded.similar(1, within=("00010001",))]
    assert loaded.similar(999) == []
    now = datetime.now(UTC)
    loaded.index(
        [
            entry(40, "Circular economy of textile clothes", tags=("Circular economy",), expires=now),
            entry(41, "Circular economy for textile shops", tags=("Circular economy",)),
        ]
    )
    found = [h.key for h in loaded.similar(7, limit=10)]
    assert "page:41" in found and "page:40" not in found
    found = [h.key for h in loaded.similar(41, limit=10)]
    assert "page:7" in found and "page:40" not in found and "page:41" not in found
