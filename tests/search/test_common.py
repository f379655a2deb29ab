"""What both engines do alike, written once in search.engines.common: held here, once."""

from __future__ import annotations

import sqlite3

import pytest

from search.engines import common
from search.engines.base import Completion
from search.engines.common import apply_correction, merge_completions, plain_snippet, unique_titles
from search.engines.elastic import queries, responses
from search.engines.fts5 import Fts5Engine


def test_plain_snippet_tokenises_a_bounded_head_of_a_long_text(monkeypatch):
    scanned = []
    real = common.tokens

    def counting(text):
        scanned.append(len(text))
        return real(text)

    monkeypatch.setattr(common, "tokens", counting)
    body = " ".join(f"word{i}" for i in range(200_000))  # about 1.9 million characters
    out = plain_snippet("", body)
    assert out == " ".join(f"word{i}" for i in range(30)) + " …"
    assert max(scanned) <= common.PLAIN_SCAN_CHARS


def test_plain_snippet_reads_further_only_when_the_head_holds_too_few_words():
    long_words = " ".join("x" * 150 + str(i) for i in range(40))
    out = plain_snippet("", long_words)
    assert out.split()[-1] == "…" and len(out.split()) == 31
    assert out.split()[29] == "x" * 150 + "29"
    assert plain_snippet("Plain summary.", "Body") == "Plain summary."
    assert plain_snippet("", "One <b>two</b> three.") == "One &lt;b&gt;two&lt;/b&gt; three."
    assert plain_snippet("  ", "") == ""


def test_both_engines_show_the_same_plain_snippet_when_browsing():
    summary, body = "", "Recycling of <plastic> " * 40
    src = {"summary": summary, "body": body}
    raw = {"_source": {"key": "page:1", "page_id": 1, "type": "practice", "title": "T", "url": "/", **src}}
    assert (
        responses.parse_hit(raw, None).snippet_html
        == common.snippet(summary, body, None)
        == plain_snippet(summary, body)
    )


def test_a_correction_replaces_whole_words_in_any_case_once():
    assert apply_correction("Smrt smrtx -smrt water", [("smrt", "smart")]) == "smart smrtx -smrt water"
    assert apply_correction("rural TELEMEDCINE", [("telemedcine", "telemedicine")]) == "rural telemedicine"
    assert apply_correction("water", [("smrt", "smart")]) is None
    assert apply_correction("a\\1 b", [("b", "c\\1")]) == "a\\1 c\\1"  # a correction is text, not a pattern


def test_labels_take_at_most_half_unless_titles_leave_room():
    labels = [(n, f"L{n}", Completion(f"L{n}", "tag", value=str(n))) for n in (1, 5, 3, 5)]
    titles = unique_titles([("Alpha", "/a/"), ("ALPHA", "/a2/"), ("Beta", "/b/"), ("Gamma", "/g/")], 8)
    assert [t.text for t in titles] == ["Alpha", "Beta", "Gamma"]
    got = merge_completions(labels, titles, 4)
    assert [c.text for c in got] == ["L5", "L5", "Alpha", "Beta"]
    assert [c.text for c in merge_completions(labels, [], 4)] == ["L5", "L5", "L3", "L1"]


def test_field_weights_are_one_table_read_by_both_engines(tmp_path):
    boosts = {f.split("^")[0]: float(f.split("^")[1]) if "^" in f else 1.0 for f in queries.FIELD_BOOSTS}
    assert boosts == common.FIELD_WEIGHTS
    assert common.WEIGHTS == tuple(common.FIELD_WEIGHTS.values())
    # bm25 weights are positional: the fts table's columns must be in the same order.
    Fts5Engine(tmp_path).count()
    (name,) = [p.name for p in tmp_path.iterdir() if p.name.endswith(".sqlite3")]
    conn = sqlite3.connect(tmp_path / name)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(fts)")]
    assert tuple(columns) == common.TEXT_FIELDS


@pytest.mark.parametrize("engine", ["fts5", "tantivy"])
def test_every_engines_stemmer_keeps_a_words_first_letter(engine, tmp_path):
    """Matcher stems only words starting as one of the query's stems do (a stem may be empty: "s"):
    true of the real practices' words under both engines' stemmers."""
    import csv

    from practices import ce_source
    from search.engines.fts5.schema import stem
    from search.engines.tantivy import TantivyEngine
    from search.text import normalize, words

    with ce_source.CSV_PATH.open(newline="", encoding="utf-8") as f:
        text = " ".join(" ".join(row.values()) for row in csv.DictReader(f))
    vocabulary = set(words(normalize(text)))
    assert len(vocabulary) > 5000
    stemmer = stem if engine == "fts5" else TantivyEngine(tmp_path).stem
    changed = [(w, s) for w in vocabulary if (s := stemmer(w))[:1] not in (w[:1], "")]
    assert changed == []
