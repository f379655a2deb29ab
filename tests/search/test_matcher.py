"""Highlighting asks the stemmer as little as it can, and marks exactly the words the query matched."""

from __future__ import annotations

import re

import pytest

from search.engines.common import Matcher, mark, snippet
from search.engines.fts5.schema import stem
from search.text import normalized_words, tokens

TEXTS = [
    "Recycling plants recycle waste; the recycled WASTE is wasted no more.",
    "Straße und Grüße: Köln recycelt Abfälle, recycling-ready!",
    "Ћирилица: отпад и рециклажа, otpad i reciklaža.",
    "Telemedicine, tele-health and televisions; telephone_numbers 42 recycl",
]


def reference(text: str, stems: frozenset[str], prefixes: tuple[str, ...]) -> list[str]:
    """The words the rule marks, asked of each word in turn, as highlighting did before."""
    return [
        m.group()
        for m in tokens(text)
        if any(
            stem(w) in stems or w in stems or (prefixes and w.startswith(prefixes))
            for w in normalized_words(m.group())
        )
    ]


@pytest.mark.parametrize(
    "stems, prefixes",
    [
        (frozenset({"recycl"}), ()),
        (frozenset({"wast", "waste"}), ("tele",)),
        (frozenset(), ("recyc", "kol")),
        (frozenset({"otpad", "reciklaz"}), ()),
    ],
)
@pytest.mark.parametrize("text", TEXTS)
def test_marks_exactly_the_words_the_rule_matches(text, stems, prefixes):
    marked = re.findall(r"<mark>(.*?)</mark>", mark(text, Matcher(stem, stems, prefixes)))
    assert marked == reference(text, stems, prefixes)


def test_a_browse_looks_at_no_word():
    def no_stemming(word):
        raise AssertionError(f"stemmed {word!r}")

    matcher = Matcher(no_stemming, frozenset(), ())
    assert mark("Waste & <water>", matcher) == "Waste &amp; &lt;water&gt;"
    assert snippet("A summary.", "The body of it.", matcher) == "A summary. The body of it."


def test_later_searches_stem_no_word_again():
    asked = []

    def counting_stem(word):
        asked.append(word)
        return stem(word)

    text = " ".join(TEXTS)
    snippet(text, text, Matcher(counting_stem, frozenset({"recycl"}), ()))
    first = len(asked)
    assert first, "the first search stems the words it must judge"
    snippet(text, text, Matcher(counting_stem, frozenset({"recycl", "wast"}), ("tele",)))
    second = len(asked)
    assert not set(asked[first:]) & set(asked[:first]), "the second search stemmed a word again"
    snippet(text, text, Matcher(counting_stem, frozenset({"recycl", "wast"}), ("tele",)))
    assert len(asked) == second, "the third search stemmed a word again"
