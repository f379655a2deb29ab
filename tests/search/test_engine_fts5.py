"""What only the embedded engine promises: its files, its caches across processes, its helpers."""

from __future__ import annotations

import random
from types import MappingProxyType

import pytest

from search.engines.base import IndexMismatch
from search.engines.common import Matcher, closest, edit_distance, mark, snippet
from search.engines.fts5 import Fts5Engine, ranking, schema
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


def test_another_process_sees_writes(pair, tmp_path):
    reader, writer = pair
    writer.rebuild(corpus())
    before = reader.search(q("", cluster=("cluj-it",)))
    writer.index([entry(50, "Cluj data spaces", tags=("Open data",), cluster="cluj-it", year=2031)])
    writer.remove_pages([1])
    writer.index([entry(6, "Timișoara and Čačak: twin hubs", cluster="foundation-ict", country="MK")])
    after = reader.search(q("", cluster=("cluj-it",)))
    assert after.total == before.total - 2 + 1
    assert "2031" in {c.value for c in after.facets["year"]}
    assert not any(s.value == "health" for s in reader.autocomplete("heal"))


def test_stored_bitsets_follow_random_writes(tmp_path):
    rng = random.Random(3)
    engine = Fts5Engine(tmp_path)
    pool = corpus()
    live = {e.key: e for e in pool[:6]}
    engine.rebuild(list(live.values()) + [pool[0]])  # a repeated key: the last one wins
    for _ in range(25):
        if rng.random() < 0.6:
            e = rng.choice(pool)
            e = entry(e.page_id, e.title, cluster=rng.choice(["cluj-it", "vojvodina-ict"]), tags=("T", e.title[:3]),
                      year=rng.choice([2020, 2021, None]), key=e.key)  # fmt: skip
            engine.index([e])
            live[e.key] = e
        else:
            pid = rng.choice(pool).page_id
            engine.remove_pages([pid])
            live = {k: e for k, e in live.items() if e.page_id != pid}
    results = Fts5Engine(tmp_path).search(q(""))  # a new process: bitsets as stored
    assert results.total == len(live) == engine.count()
    for facet, counts in results.facets.items():
        expected = {}
        for e in live.values():
            for v in set(e.facets.get(facet, ())):
                expected[v] = expected.get(v, 0) + 1
        assert {c.value: c.count for c in counts} == expected, facet


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
    positive, negative, lost = ranking.expressions(q('NEAR(a b) "x y" title:z -w* ca* AND'))
    assert positive == '"near a" AND "b" AND "x y" AND "title z" AND "ca"*'
    assert negative == '"w"'
    assert not lost
    assert ranking.expressions(q("🙂")) == (None, None, True)


def test_edit_distance_and_closest():
    assert edit_distance("telemedcine", "telemedicine") == 1
    assert edit_distance("recylcing", "recycling") == 1  # a transposition is one edit
    assert edit_distance("abc", "xyz") == 3
    assert closest("telemedcine", {"telemedicine": 3, "medicine": 50}) == "telemedicine"
    assert closest("wast", {"waste": 10, "vast": 2, "east": 50}) == "waste"  # same distance: commoner
    assert closest("zzzzzz", {"waste": 10}) is None


def test_highlighting_escapes_then_marks():
    matcher = Matcher(schema.stem, stems=frozenset({"recycl"}), prefixes=("tele",))
    assert mark("<b>Recycling</b> & telecoms", matcher) == (
        "&lt;b&gt;<mark>Recycling</mark>&lt;/b&gt; &amp; <mark>telecoms</mark>"
    )
    body = " ".join(f"w{i}" for i in range(200)) + " recycled here"
    out = snippet("A short summary.", body, matcher)
    assert "<mark>recycled</mark> here" in out and out.startswith("… ")
    assert len(out.split()) <= 32
    assert snippet("Plain summary.", "", None) == "Plain summary."
    accented = Matcher(schema.stem, stems=frozenset({"ecol"}), prefixes=())
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


def test_writes_during_a_rebuild_are_not_lost(tmp_path):
    builder, editor = Fts5Engine(tmp_path), Fts5Engine(tmp_path)
    builder.rebuild(corpus())

    def entries():
        yield from corpus()[:4]
        # Published and unpublished while the rebuild reads its source.
        editor.index([entry(2, "Open data portal, second edition", "Now with budgets.")])
        editor.index([entry(70, "Published during the rebuild")])
        editor.remove_pages([5])
        yield from corpus()[4:]

    builder.rebuild(entries())
    for engine in (builder, editor, Fts5Engine(tmp_path)):
        assert engine.page_ids() == {e.page_id for e in corpus()} - {5} | {70}
        assert [h.key for h in engine.search(q("second edition")).hits] == ["page:2"]
        assert engine.search(q("Петровић")).total == 0
    hit = builder.search(q("rebuild")).hits[0]
    assert (hit.key, hit.url, hit.display) == (
        "page:70",
        "/practices/70/",
        {"cluster": "Cluj IT Cluster", "n": 70},
    )
    # Page 2 moved to Cluj, page 5 (Vojvodina) went, page 70 (Cluj) came (a browse counts pages,
    # not the slide of page 10).
    clusters = {c.value: c.count for c in builder.search(q("")).facets["cluster"]}
    assert clusters == {"cluj-it": 6, "vojvodina-ict": 2, "foundation-ict": 2}


def test_both_ways_of_paging_agree(tmp_path, monkeypatch):
    engine = Fts5Engine(tmp_path)
    engine.rebuild(corpus())
    cases = [("", "newest"), ("", "title"), ("-telemedicine", "newest"), ("telemedicine", "relevance"),
             ("circular economy", "relevance"), ("digital", "title"), ("novi", "relevance")]  # fmt: skip
    for text, sort in cases:
        for filters in ({}, {"country": ("RS", "MK")}):
            pages = [
                Query(text=text, terms=parse_terms(text), sort=sort, page=p, per_page=2,
                      filters=MappingProxyType(filters))
                for p in (1, 2, 3)
            ]  # fmt: skip
            few = [[h.key for h in engine.search(p).hits] for p in pages]
            monkeypatch.setattr(ranking, "FEW_CANDIDATES", 0)
            many = [[h.key for h in engine.search(p).hits] for p in pages]
            monkeypatch.setattr(ranking, "FEW_CANDIDATES", 5000)
            assert few == many, (text, sort, filters)
            assert any(few), (text, sort, filters)


def test_replacing_a_page_never_shows_it_missing(tmp_path):
    import threading

    engine = Fts5Engine(tmp_path / "index")
    engine.rebuild(corpus())
    page_1 = [e for e in corpus() if e.page_id == 1]
    reader = Fts5Engine(tmp_path / "index")
    misses: list[int] = []
    stop = threading.Event()

    def searcher():
        while not stop.is_set():
            if "page:1" not in {h.key for h in reader.search(q("telemedicine")).hits}:
                misses.append(1)

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        for _ in range(200):
            engine.replace_pages([1], page_1)
    finally:
        stop.set()
        thread.join()
    assert misses == []
    assert engine.search(q("telemedicine")).total == 3


def test_an_index_of_an_older_layout_is_rebuilt_never_read(tmp_path):
    import sqlite3

    from search.engines.base import EngineUnavailable

    engine = Fts5Engine(tmp_path / "index")
    engine.rebuild(corpus())
    live = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text().strip()
    with sqlite3.connect(live) as conn:
        conn.execute("UPDATE meta SET value = value - 1 WHERE key = 'schema'")
        conn.execute("DROP TABLE journal")
    stale = Fts5Engine(tmp_path / "index")
    with pytest.raises(EngineUnavailable, match="rebuild_search_index"):
        stale.search(q("telemedicine"))
    stale.rebuild(corpus())
    assert stale.search(q("telemedicine")).total == 3


def test_a_rebuild_missing_expected_pages_is_refused_and_the_live_index_kept(tmp_path):
    engine = Fts5Engine(tmp_path)
    engine.rebuild(corpus())
    before = engine.page_ids()
    with pytest.raises(IndexMismatch, match="1 missing"):
        engine.rebuild([entry(1, "Only one")], expected_page_ids={1, 2})
    assert Fts5Engine(tmp_path).page_ids() == before
    assert engine.rebuild([entry(1, "Only one")], expected_page_ids={1}) == 1
    assert engine.page_ids() == {1}


def test_stemming_is_safe_in_threaded_workers():
    """A shared snowball stemmer raised IndexError under gunicorn's threads (a 500 in bench.faults)."""
    import random
    import string
    import threading

    rng = random.Random(7)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 14))) for _ in range(20000)
    ]
    errors = []

    def run(part):
        for w in part:
            try:
                schema.stem.__wrapped__(w)
            except Exception as exc:  # noqa: BLE001 - any failure is the bug
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(words[i::2] + words,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_the_text_is_kept_once_and_writes_leave_no_stale_words(tmp_path):
    """The fts tables are contentless: each write tells them the text it removes, which must be the
    text the row was indexed with, or the old words would keep matching a deleted row."""
    import sqlite3

    from search.engines.base import DocumentPart

    engine = Fts5Engine(tmp_path)
    doc = DocumentPart(document_id=7, filename="Guide.pdf", page=1, unit="page", url="/documents/7/#page=1")
    engine.rebuild([entry(1, "Ćevapi grill in Niš", "Old summary", "oldbody", tags=("Oldtag",))])
    engine.index([entry(2, "Second page", "kept words"), entry(2, "Guide part", body="guidebody", document=doc,
                                                             key="doc:7:1")])  # fmt: skip
    engine.replace_pages([1], [entry(1, "Pljeskavica grill", "New summary", "newbody", tags=("Newtag",))])
    engine.remove_pages([2])
    conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not {"fts_content", "near_fts_content", "title_fts_content"} & tables

    def rows(table: str, expr: str) -> list[int]:
        return [r for (r,) in conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (expr,))]

    for old in ("cevapi", "nis", "oldbody", "oldtag", "old", "second", "kept", "guidebody", "guide"):
        assert rows("fts", old) == rows("near_fts", old) == rows("title_fts", old) == [], old
    (live,) = rows("fts", "pljeskavica newbody newtag")
    assert rows("title_fts", "grill") == [live] and rows("near_fts", "pljeskavica newtag") == [live]
    assert conn.execute("SELECT count(*) FROM fts_docsize").fetchone()[0] == 1
    conn.execute("INSERT INTO fts (fts) VALUES ('integrity-check')")
    for table in ("near_fts", "title_fts"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


def test_a_kept_match_set_never_outlives_a_write(tmp_path, monkeypatch):
    """Match sets are kept per index generation: a write by this engine or another process's engine
    (another object on the same files) is seen by the next search; the kept sets stay bounded."""
    from search.engines.fts5 import bitsets

    reader, writer = Fts5Engine(tmp_path), Fts5Engine(tmp_path)
    writer.rebuild([entry(1, "Alpha grill"), entry(2, "Beta grill")])
    assert reader.search(q("grill")).total == 2 and reader.search(q("-alpha")).total == 1
    assert reader.search(q("grill")).total == 2  # from the kept set
    writer.index([entry(3, "Alpha grill again")])
    assert reader.search(q("grill")).total == 3 and reader.search(q("-alpha")).total == 1
    writer.remove_pages([1, 2])
    assert [h.key for h in reader.search(q("grill")).hits] == ["page:3"]
    assert reader.search(q("-alpha")).total == 0
    monkeypatch.setattr(bitsets, "KEPT_COUNT", 4)
    for word in ("alpha", "grill", "again"):
        assert reader.search(q(word)).total == 1
    with reader._read() as conn:
        kept = list(reader._cache(conn).kept.items)
    # The last search's match set, facet counts, page and correction; nothing older.
    assert len(kept) == 4 and [k for k in kept if k[0] == "match"] == [("match", '"again"')]


def test_a_ranked_tier_reads_on_past_its_kept_head(tmp_path, monkeypatch):
    """A tier's kept head, then the rest of the tier from SQL, ranks as the whole tier does: on
    every page, filtered or not, with the head just read or kept from an earlier search."""
    entries = [entry(i, "Grill " * (1 + i % 3) + f"house {i}", summary="grill" * (i % 2), country=("RO", "RS")[i % 2])
               for i in range(1, 15)]  # fmt: skip
    whole, headed = Fts5Engine(tmp_path / "whole"), Fts5Engine(tmp_path / "headed")
    whole.rebuild(entries)
    headed.rebuild(entries)
    monkeypatch.setattr(ranking, "FEW_CANDIDATES", 0)
    for filters, per_page in (({}, 3), ({"country": ("RS",)}, 3), ({}, 4)):
        for page in (1, 2, 3):
            query = Query(text="grill", terms=parse_terms("grill"), page=page, per_page=per_page,
                          filters=MappingProxyType(filters))  # fmt: skip
            expected = [h.key for h in whole.search(query).hits]
            monkeypatch.setattr(ranking, "TIER_HEAD", 2)
            assert [h.key for h in headed.search(query).hits] == expected, (filters, page)
            monkeypatch.setattr(ranking, "TIER_HEAD", 256)
            assert expected, (filters, page)
    with headed._read() as conn:
        heads = [v for k, v in headed._cache(conn).kept.items.items() if k[0] == "tier"]
    assert heads and all(len(rows) == 2 and not whole_ for rows, whole_ in heads)


def test_id_bits_sets_exactly_the_selected_rowids():
    import sqlite3

    from search.engines.fts5.bitsets import bit_ids, id_bits

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (rowid INTEGER PRIMARY KEY, odd INTEGER)")
    rng = random.Random(5)
    ids = sorted(rng.sample(range(1, 5000), 700)) + [8191, 8192]
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i % 2) for i in ids])
    assert id_bits(conn, "SELECT rowid FROM t") == sum(1 << i for i in ids)
    assert list(bit_ids(id_bits(conn, "SELECT rowid FROM t WHERE odd = ?", (1,)))) == [
        i for i in ids if i % 2
    ]
    assert id_bits(conn, "SELECT rowid FROM t WHERE rowid < 0") == 0


def test_a_matcher_judges_each_word_as_one_at_a_time(monkeypatch):
    from search.engines import common

    text = "Recycling tele work recycled telecoms Recycle recy teleport RECYCLING ecology".split()
    one = Matcher(schema.stem, stems=frozenset({"recycl"}), prefixes=("tele",))
    expected = [one(w) for w in text]
    assert expected == [True, True, False, True, True, True, False, True, True, False]
    monkeypatch.setattr(common, "SEEN_WORDS", 2)  # begun afresh while judging: same verdicts
    many = Matcher(schema.stem, stems=frozenset({"recycl"}), prefixes=("tele",))
    assert list(many.each(text)) == expected == list(many.each(text))
    assert Matcher(schema.stem, frozenset({schema.stem("s")}), ())("S")  # a stem can be empty
    key = (schema.stem, frozenset({"recycl"}), ("tele",))
    assert common.matcher(*key) is common.matcher(*key)


def test_kept_facet_counts_and_corrections_are_as_fresh_ones(tmp_path, monkeypatch):
    """Kept per generation: a caller changing what it got, an entry expiring or a write never shows."""
    from datetime import UTC, datetime

    from search.engines.fts5 import bitsets

    engine = Fts5Engine(tmp_path)
    soon = datetime(2030, 1, 1, tzinfo=UTC)
    engine.rebuild([entry(1, "Grill house", country="RS"), entry(2, "Grill bar", country="MK", expires=soon)])
    first = engine.search(q("grill"))
    assert facet_counts(first)["country"] == {("RS", 1, False, "RS"), ("MK", 1, False, "MK")}
    first.facets["country"][0].count = 99
    first.facets["country"].clear()
    assert facet_counts(engine.search(q("grill"))) == facet_counts(Fts5Engine(tmp_path).search(q("grill")))
    assert facet_counts(engine.search(q("grill")))["country"] == {
        ("RS", 1, False, "RS"),
        ("MK", 1, False, "MK"),
    }
    monkeypatch.setattr(bitsets, "now", lambda: soon.timestamp() + 1)
    assert facet_counts(engine.search(q("grill")))["country"] == {("RS", 1, False, "RS")}
    assert engine.search(q("gril")).correction == "grill"
    engine.index([entry(3, "Gril kitchen")])
    assert engine.search(q("gril")).correction is None


def test_stored_text_is_packed_with_the_index_dictionary_and_comes_back_whole(tmp_path):
    """``stored`` is Zstandard with a dictionary from the rebuild's first entries (their text itself
    where they are too few to train on): smaller than without, and every entry comes back as written,
    whether written before or after."""
    import sqlite3

    texts = [
        f"Municipal waste sorting in district {i}: collection, recycling and composting." for i in range(40)
    ]
    engine = Fts5Engine(tmp_path)
    engine.index([entry(99, "Before any rebuild", body="Čćžšđ body of an index with no dictionary")])
    with engine._read() as conn:
        assert schema.packer(conn).zdict == b""
    engine.rebuild([entry(i + 1, f"Practice {i}", body=t, tags=("Waste",)) for i, t in enumerate(texts)])
    engine.index([entry(50, "Written after", body=texts[3] + " Ђорђе")])
    conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
    (zdict,) = conn.execute("SELECT bytes FROM zdict").fetchone()
    # Too few entries to train on: their text is the dictionary.
    assert all(t.encode() in zdict for t in texts) and len(zdict) <= schema.ZDICT_BYTES
    packer = schema.Packer(zdict)
    for key, stored in conn.execute("SELECT key, stored FROM entries"):
        kept = packer.unpack(stored)
        n = int(key.split(":")[1])
        assert kept.body == (texts[3] + " Ђорђе" if n == 50 else texts[n - 1])
        assert ("tag", "waste", "Waste") in kept.pairs or n == 50
    pairs = [("tag", "waste", "Waste")]
    one = entry(8, "Practice 7", body=texts[7], tags=("Waste",))
    assert len(packer.pack(one, pairs)) < len(schema.Packer(b"").pack(one, pairs))
    assert engine.search(Query(terms=parse_terms("composting"))).total == 41


def test_the_dictionary_is_trained_where_there_are_enough_entries_and_is_their_text_where_few(
    tmp_path, monkeypatch
):
    """A rebuild of enough entries trains a Zstandard dictionary on them; one of fewer (tests build
    indexes of one to twenty) keeps their text as the dictionary, and none at all only for no entries.
    Either way the same entries give the same dictionary, and a rebuild never fails for it."""
    import sqlite3

    from search.query import FACETS

    words = "grill waste river bridge school clinic museum market library harbour forest tram".split()
    many = [
        entry(
            i + 1,
            f"Practice {i} on {words[i % 12]}",
            body=" ".join(words[(i * k) % 12] for k in range(1, 40)) + f" number {i * 7919 % 1000}",
            tags=(words[i % 5].title(),),
        )
        for i in range(200)
    ]
    trained = schema.dictionary(many, FACETS)
    assert trained[:4] == b"\x37\xa4\x30\xec" and len(trained) <= schema.ZDICT_BYTES
    assert schema.dictionary(many, FACETS) == trained
    few = schema.dictionary(many[:3], FACETS)
    assert few[:4] != b"\x37\xa4\x30\xec" and many[2].body.encode() in few
    assert schema.dictionary([], FACETS) == b""
    # Where training fails all the same (zstd finds too little to learn from), their text.
    with monkeypatch.context() as patched:

        def refuse(*args, **kwargs):
            raise schema.zstandard.ZstdError("cannot train dict")

        patched.setattr(schema.zstandard, "train_dictionary", refuse)
        assert (
            schema.dictionary(many, FACETS)
            == b"".join(schema._raw(e, schema.pairs_of(e, FACETS)) for e in many)[-schema.ZDICT_BYTES :]
        )
    for entries, dictionary in ((many, trained), (many[:1], schema.dictionary(many[:1], FACETS))):
        engine = Fts5Engine(tmp_path / str(len(entries)))
        assert engine.rebuild(entries) == len(entries)
        conn = sqlite3.connect(engine.directory / (engine.directory / "CURRENT").read_text())
        assert conn.execute("SELECT id, bytes FROM zdict").fetchall() == [
            (schema.dictionary_id(dictionary), dictionary)
        ]
        rows = {r[0]: r for r in conn.execute(f"SELECT {schema.ENTRY_COLUMNS} FROM entries")}
        assert [schema.entry_of(rows[e.key], schema.packer(conn)).body for e in entries] == [
            e.body for e in entries
        ]
        conn.close()
        assert engine.search(q("grill")).total == sum(
            "grill" in e.title or "grill" in e.body for e in entries
        )


def test_one_packer_packs_and_unpacks_on_several_threads_at_once():
    """A packer serves gunicorn's threads and a rebuild's at once: each thread has its own compressor
    and decompressor (python-zstandard's are not thread-safe), so none sees another's frames."""
    import threading

    from search.query import FACETS

    entries = [entry(i + 1, f"Practice {i}", body=f"Body {i} " * (i % 50 + 1)) for i in range(300)]
    packer = schema.Packer(schema.dictionary(entries, FACETS))
    start = threading.Barrier(4)
    failures = []

    def work(offset: int) -> None:
        start.wait()
        try:
            for _ in range(5):
                for e in entries[offset::4]:
                    kept = packer.unpack(packer.pack(e, []))
                    if kept.body != e.body:
                        failures.append(e.key)
        except Exception as exc:  # noqa: BLE001 - reported below, on the test's thread
            failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_a_key_repeated_in_one_write_leaves_only_its_last_entry(tmp_path, monkeypatch):
    """Writes go in batches; a repeated key starts a new one, so the first entry is deleted whole
    (its words, its facet bits) before the last one goes in, in a rebuild as in a write."""
    import sqlite3

    from search.engines.fts5 import writing

    monkeypatch.setattr(writing, "BATCH", 2)
    engine = Fts5Engine(tmp_path)
    first, second = (
        entry(1, "Alpha grill", cluster="cluj-it"),
        entry(1, "Beta grill", cluster="vojvodina-ict"),
    )
    others = [entry(n, f"Other {n}") for n in range(2, 6)]
    engine.rebuild([others[0], first, others[1], second, *others[2:]])
    engine.index([entry(7, "Gamma"), first, entry(8, "Delta"), first, second])
    results = engine.search(q("grill"))
    assert [h.key for h in results.hits] == ["page:1"] and engine.search(q("alpha")).total == 0
    assert {c.value: c.count for c in results.facets["cluster"]} == {"vojvodina-ict": 1}
    assert engine.count() == 7
    conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
    for table in ("fts", "near_fts", "title_fts"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


# Text that splits into words differently under careless rules: scripts, marks, ligatures, digits.
AWKWARD = [
    ("Нови Сад и Ниш", "Đorđe, Čačak and Timișoara", "snake_case e-mail it's 3D 2,5mm ½ x² №5"),
    ("Σίσυφος ΟΔΟΣ", "İstanbul Straße ŒUVRE", "日本語テキスト 한국어 العربية हिन्दी ग्रंथ"),
    ("emoji 🙂 fine🙂y", "tabs\tand\nnewlines", "ǅemal ǈubljana ﬁnance ＦＵＬＬ Ǆ \ue000private"),
    ("Shqipëri çelës", "Београд Ђурђевдан", "O'Brien l'eau co-op 3.14 1e5 ⅻ"),
]


def test_a_rebuild_counts_words_as_later_writes_do(tmp_path, monkeypatch):
    """A rebuild has SQLite count each word's entries (the unicode61 tokenizer) where it splits words
    as ``search.text.words`` does, with which later writes count: the counts must agree, or
    prefixes and "did you mean" would drift between a rebuild and the writes that follow it. A key
    repeated in one write (the first entry deleted in a later batch) leaves no count behind."""
    import sqlite3
    from collections import Counter

    from search.engines.fts5 import schema, writing
    from search.text import words

    monkeypatch.setattr(writing, "BATCH", 3)  # several batches, and a repeated key across them
    entries = [
        entry(n, t, s, b, tags=(t.split()[0], "Zajedno"), key=f"page:{n % 6}")
        for n, (t, s, b) in enumerate(AWKWARD * 2, 1)
    ]
    built, written = Fts5Engine(tmp_path / "built"), Fts5Engine(tmp_path / "written")
    built.rebuild(entries)
    written.index(entries)
    last = {e.key: e for e in entries}.values()
    expected = Counter(
        w
        for e in last
        for w in set(words(" ".join(schema.folded(e.title, e.summary, e.tags, e.names, e.body))))
    )

    def vocab(directory) -> list[tuple[str, int]]:
        conn = sqlite3.connect(directory / (directory / "CURRENT").read_text())
        return conn.execute("SELECT word, df FROM vocab ORDER BY word").fetchall()

    assert vocab(tmp_path / "built") == vocab(tmp_path / "written") == sorted(expected.items())
    counted = dict(vocab(tmp_path / "built"))
    assert counted["zajedno"] == built.count() == 6 and counted["nis"] == 1 and counted["σισυφοσ"] == 1
    assert counted["snake"] == counted["case"] == 1 and "snake_case" not in counted


def test_a_rebuild_failing_in_sqlite_leaves_the_live_index_and_no_thread(tmp_path, monkeypatch):
    """A rebuild's SQL runs on a thread of its own: its error reaches the caller, the thread ends,
    and the live index is left as it was."""
    import sqlite3
    import threading

    from search.engines.fts5 import writing

    engine = Fts5Engine(tmp_path)
    engine.rebuild(corpus())
    before = engine.search(q("recycling"))
    monkeypatch.setattr(writing, "BATCH", 2)
    real, calls = writing._write_batch, []

    def failing(conn, **batch):
        calls.append(batch)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        real(conn, **batch)

    monkeypatch.setattr(writing, "_write_batch", failing)
    threads = threading.active_count()
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        engine.rebuild(corpus())
    assert threading.active_count() == threads
    assert len(calls) == 2 and engine.count() == len(corpus())
    assert [h.key for h in engine.search(q("recycling")).hits] == [h.key for h in before.hits] != []
    assert [p.name for p in tmp_path.glob("index-*.sqlite3")] == [(tmp_path / "CURRENT").read_text()]


def test_split_alike_holds_for_every_character_this_sqlite_tokenizes():
    """``split_alike`` decides which text a rebuild lets SQLite count the words of: wherever it says
    yes, this SQLite's unicode61 tokenizer must split a character as ``search.text.words`` does."""
    import sqlite3

    from search.engines.fts5.writing import split_alike
    from search.text import words

    alike = [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF and split_alike(chr(c))]
    assert len(alike) > 90_000  # most of the world's letters, digits and punctuation
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'unicode61 remove_diacritics 0')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, 'instance')")
    conn.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", ((ord(c), f"a {c} b") for c in alike))
    in_words = {doc for (doc,) in conn.execute("SELECT DISTINCT doc FROM v WHERE term NOT IN ('a', 'b')")}
    assert [c for c in alike if (ord(c) in in_words) != bool(words(c))] == []
    assert split_alike("é") and split_alike("’") and not split_alike("🙂") and not split_alike("\ue000")


def test_a_rebuild_leaves_live_writes_merging_as_fts5_does_by_default(tmp_path):
    """A rebuild turns FTS5's merging off while it loads (its final 'optimize' merges once); the
    writes after it must merge as usual, or segments would pile up."""
    import sqlite3

    from search.engines.fts5.store import FTS_TABLES, LIVE_MERGING

    Fts5Engine(tmp_path).rebuild(corpus())
    conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
    for table in FTS_TABLES:
        assert dict(conn.execute(f"SELECT k, v FROM {table}_config WHERE k != 'version'")) == LIVE_MERGING


def test_an_entry_comes_back_from_the_index_with_every_field(tmp_path):
    """What SQL never reads is packed into ``stored`` with the body: a rebuild's catch-up gives every
    field back as written (``entry_of``), before and after a rebuild's dictionary exists."""
    import sqlite3
    from dataclasses import replace
    from datetime import UTC, datetime

    from search.engines.base import DocumentPart

    engine = Fts5Engine(tmp_path)
    full = replace(
        entry(
            7,
            'Čačak: Ђорђе\'s "grill"\nline',
            "Summary with ß and 👍",
            "Body\n\nin two paragraphs, Timișoara",
            tags=("Open data", "Ниш"),
            type="presentation",
            expires=datetime(2099, 5, 6, 7, 8, 9, tzinfo=UTC),
            document=DocumentPart(3, "slides.pptx", 2, "slide", "/documents/3/slides.pptx"),
            key="doc:7:3:2",
        ),
        display={"cluster": "Cluj IT", "when": "2024-01-02", "n": 3, "nested": {"a": [1, None]}},
    )
    plain = entry(8, "Plain ASCII title")
    for rebuilt in (False, True):
        if rebuilt:
            engine.rebuild([plain, full])
        else:
            engine.index([plain, full])
        conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
        rows = {r[0]: r for r in conn.execute(f"SELECT {schema.ENTRY_COLUMNS} FROM entries")}
        for e in (full, plain):
            # As indexed: the facets that have values, each with a label (its own where it has none).
            facets = {f: vs for f, vs in e.facets.items() if vs}
            labels = {f: {v: e.labels.get(f, {}).get(v, v) for v in vs} for f, vs in facets.items()}
            assert schema.entry_of(rows[e.key], schema.packer(conn)) == replace(
                e, facets=facets, labels=labels
            )
        sorts = dict(conn.execute("SELECT key, title_sort FROM entries"))
        # SQLite's lower() gives an ASCII title's sort key: the column stays empty.
        assert sorts == {"page:8": None, "doc:7:3:2": schema.normalize(full.title)}
        conn.close()
        hit = engine.search(q("grill")).hits[0]
        assert (hit.key, hit.type, hit.display, hit.document) == (
            full.key,
            "presentation",
            full.display,
            full.document,
        )
    engine.remove_pages([7])
    assert engine.count() == 1 and engine.search(q("grill")).total == 0


def test_title_sort_folds_case_accents_and_cyrillic_as_normalize_does(tmp_path):
    """A sort by title orders by the folded title, then by rowid, whether the page is read through
    the title index (many matches) or sorted among a few."""
    from search.text import normalize

    titles = [
        "zebra crossings",
        "Ćevapi grill",
        "cevapi Grill",
        "Ábacus",
        "abacus",
        "Ниш smart city",
        "nis smart city",
        "Zagreb",
        "Ærø energy",
        "Straße",
        "STRASSE",
        "Éclair",
        "eclair",
        "Вода",
        "123 steps",
        "_under",
        "[bracket]",
        "Œuvre",
        "Ǆemal",
    ]
    engine = Fts5Engine(tmp_path)
    engine.rebuild([entry(i + 1, t) for i, t in enumerate(titles)])
    expected = [t for _, _, t in sorted((normalize(t), i, t) for i, t in enumerate(titles))]
    few = engine.search(Query(sort="title", per_page=50))
    assert [h.title for h in few.hits] == expected
    # As past FEW_CANDIDATES: the rows walked in the title index's order.
    import sqlite3

    conn = sqlite3.connect(tmp_path / (tmp_path / "CURRENT").read_text())
    scanned = ranking.scan_ordered(conn, f"{schema.TITLE_ORDER}, rowid", (1 << 64) - 1, 50)
    by_rowid = dict(conn.execute("SELECT rowid, title FROM entries"))
    assert [by_rowid[r] for r, _ in scanned] == expected
    plan = " ".join(
        r[-1]
        for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT rowid FROM entries ORDER BY {schema.TITLE_ORDER}, rowid"
        )
    )
    assert "entries_title" in plan and "TEMP B-TREE" not in plan


def test_a_rebuild_is_vacuumed_or_kept_as_built_when_vacuum_fails(tmp_path, monkeypatch):
    """The rebuild ends with VACUUM (no free pages left); a VACUUM that fails (no room for its copy)
    keeps the index as built, unless it is damaged."""
    import sqlite3

    from search.engines.fts5 import store

    compacted = []
    compact = store._compact
    monkeypatch.setattr(store, "_compact", lambda c: compacted.append(c) or compact(c))
    engine = Fts5Engine(tmp_path / "index")
    engine.rebuild(corpus())
    assert len(compacted) == 1 and engine.count() == len(corpus())
    conn = sqlite3.connect(tmp_path / "pages.sqlite3", isolation_level=None)
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,) for _ in range(100)])
    conn.execute("DELETE FROM t")
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] > 0
    store._compact(conn)
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0

    class NoRoom:
        def __init__(self, quick_check: str):
            self.quick_check = quick_check

        def execute(self, sql):
            if sql == "VACUUM":
                raise sqlite3.OperationalError("database or disk is full")
            return conn.execute(f"SELECT '{self.quick_check}'")

    store._compact(NoRoom("ok"))
    with pytest.raises(sqlite3.OperationalError):
        store._compact(NoRoom("*** in database main ***"))
