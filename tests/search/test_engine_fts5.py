"""What only the embedded engine promises: its files, its caches across processes, its helpers."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from search.engines import fts5
from search.engines.fts5 import Fts5Engine, closest, edit_distance, mark, snippet
from search.query import Query, parse_terms
from tests.search.conftest import corpus, entry


def q(text: str = "", **filters) -> Query:
    return Query(text=text, terms=parse_terms(text), filters=MappingProxyType(filters), per_page=50)


def facet_counts(results) -> dict:
    return {f: {(c.value, c.count, c.selected, c.label) for c in cs} for f, cs in results.facets.items()}


@pytest.fixture
def pair(tmp_path):
    """Two engines on one directory, as two gunicorn workers would be."""
    return Fts5Engine(tmp_path), Fts5Engine(tmp_path)


def test_another_process_catches_up_with_writes(pair, tmp_path):
    reader, writer = pair
    writer.rebuild(corpus())
    before = reader.search(q("", cluster=("cluj-it",)))
    writer.index([entry(50, "Cluj data spaces", tags=("Open data",), cluster="cluj-it", year=2031)])
    writer.remove_pages([1])
    writer.index([entry(6, "Timișoara and Čačak: twin hubs", cluster="foundation-ict", country="MK")])
    after = reader.search(q("", cluster=("cluj-it",)))
    assert after.total == before.total - 2 + 1
    fresh = Fts5Engine(tmp_path).search(q("", cluster=("cluj-it",)))
    assert facet_counts(after) == facet_counts(fresh)
    years = {c.value for c in after.facets["year"]}
    assert "2031" in years
    assert not any(s.value == "health" for s in reader.suggest("heal"))


def test_a_process_too_far_behind_reloads(pair, tmp_path, monkeypatch):
    monkeypatch.setattr(fts5, "KEEP_GENERATIONS", 1)
    reader, writer = pair
    writer.rebuild(corpus())
    reader.search(q(""))
    for n in range(60, 64):
        writer.index([entry(n, f"Practice {n}", cluster="foundation-ict", country="MK")])
    results = reader.search(q(""))
    assert results.total == len(corpus()) + 4
    assert facet_counts(results) == facet_counts(Fts5Engine(tmp_path).search(q("")))


def test_rebuild_swaps_files_and_readers_follow(pair, tmp_path):
    reader, writer = pair
    writer.rebuild(corpus())
    assert reader.count() == len(corpus())
    for _ in range(3):
        writer.rebuild(corpus()[:3])
    assert reader.count() == 3
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".sqlite3"))
    assert len(files) == 2  # the live index and the one before, which a reader may still hold
    assert (tmp_path / "CURRENT").read_text() == files[-1]


def test_a_failed_rebuild_leaves_the_live_index(tmp_path):
    engine = Fts5Engine(tmp_path)
    engine.rebuild(corpus())

    def broken():
        yield entry(1, "fine")
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError):
        engine.rebuild(broken())
    assert engine.count() == len(corpus())
    assert [p.name for p in tmp_path.glob("index-*.sqlite3")] == [(tmp_path / "CURRENT").read_text()]


def test_match_expressions_are_quoted():
    positive, negative, lost = Fts5Engine._match(q('NEAR(a b) "x y" title:z -w* ca* AND'))
    assert positive == '"near a" AND "b" AND "x y" AND "title z" AND "ca"*'
    assert negative == '"w"'
    assert not lost
    assert Fts5Engine._match(q("🙂")) == (None, None, True)


def test_edit_distance_and_closest():
    assert edit_distance("telemedcine", "telemedicine") == 1
    assert edit_distance("recylcing", "recycling") == 1  # a transposition is one edit
    assert edit_distance("abc", "xyz") == 3
    assert closest("telemedcine", {"telemedicine": 3, "medicine": 50}) == "telemedicine"
    assert closest("wast", {"waste": 10, "vast": 2, "east": 50}) == "waste"  # same distance: commoner
    assert closest("zzzzzz", {"waste": 10}) is None


def test_highlighting_escapes_then_marks():
    matcher = fts5._Matcher(stems=frozenset({"recycl"}), prefixes=("tele",))
    assert mark("<b>Recycling</b> & telecoms", matcher) == (
        "&lt;b&gt;<mark>Recycling</mark>&lt;/b&gt; &amp; <mark>telecoms</mark>"
    )
    body = " ".join(f"w{i}" for i in range(200)) + " recycled here"
    out = snippet("A short summary.", body, matcher)
    assert "<mark>recycled</mark> here" in out and out.startswith("… ")
    assert len(out.split()) <= 32
    assert snippet("Plain summary.", "", None) == "Plain summary."
    accented = fts5._Matcher(stems=frozenset({"ecol"}), prefixes=())
    assert mark("E\u0301cole", accented) == "<mark>\u00c9cole</mark>"


def test_a_reader_arriving_during_the_first_rebuild_does_not_win(tmp_path):
    builder, reader = Fts5Engine(tmp_path), Fts5Engine(tmp_path)

    def entries():
        yield from corpus()[:5]
        assert reader.count() == 0  # the reader made itself an empty index meanwhile
        yield from corpus()[5:]

    builder.rebuild(entries())
    assert reader.count() == builder.count() == len(corpus())
    assert len(list(tmp_path.glob("index-*.sqlite3"))) == 2
