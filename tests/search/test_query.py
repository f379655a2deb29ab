from hypothesis import given
from hypothesis import strategies as st

from search.query import MAX_QUERY_CHARS, MAX_TERMS, Query, Term, parse, parse_terms, to_params


def test_words_phrases_exclusions_prefixes():
    assert parse_terms('solar "smart city" -waste recyc* -"old phones"') == (
        Term("solar"),
        Term("smart city", phrase=True),
        Term("waste", negated=True),
        Term("recyc", prefix=True),
        Term("old phones", phrase=True, negated=True),
    )


def test_operators_and_junk_are_dropped():
    assert parse_terms("a AND b OR NOT c NEAR d") == (Term("a"), Term("b"), Term("c"), Term("d"))
    assert parse_terms('" ( ) : * - -- ""') == ()
    assert parse_terms("title:smart") == (Term("title smart", phrase=True),)


def test_open_quote_closes_at_the_end():
    assert parse_terms('"smart city') == (Term("smart city", phrase=True),)


def test_one_letter_prefix_is_a_word():
    assert parse_terms("a*") == (Term("a"),)


@given(st.text())
def test_parse_terms_never_raises_and_caps(text):
    terms = parse_terms(text)
    assert len(terms) <= MAX_TERMS
    for t in terms:
        assert t.text and t.text == t.text.strip()
        assert "\x00" not in t.text and '"' not in t.text


def test_only_exclusions_is_an_empty_query():
    q, _ = parse({"q": "-waste"})
    assert q.is_empty and q.terms == (Term("waste", negated=True),)


def test_parse_keeps_commas_and_long_text_in_the_words():
    q, notes = parse({"q": "recycling, plastic " + "x" * 150})
    assert q.text == "recycling, plastic " + "x" * 150
    assert notes == []
    q, notes = parse({"q": "y " * 400})
    assert len(q.text) == MAX_QUERY_CHARS
    assert notes and "shortened" in notes[0]


def test_parse_filters_sort_and_page():
    q, notes = parse({"q": "data", "country": ["rs", "ro"], "year": ["2020", "20x"], "type": "practice,bogus",
                      "sort": "newest", "page": "3"})  # fmt: skip
    assert dict(q.filters) == {"country": ("RS", "RO"), "year": ("2020",), "type": ("practice",)}
    assert (q.sort, q.page, q.offset) == ("newest", 3, 40)
    assert len(notes) == 2


def test_bad_sort_and_page_fall_back_or_raise_when_strict():
    q, notes = parse({"sort": "random", "page": "0"})
    assert (q.sort, q.page) == ("relevance", 1) and len(notes) == 2
    for params in ({"sort": "random"}, {"page": "x"}, {"page": "501"}, {"type": "bogus"}):
        try:
            parse(params, strict=True)
        except ValueError:
            continue
        raise AssertionError(params)


def test_to_params_round_trips():
    q, _ = parse({"q": 'smart "city hall"', "tag": ["iot", "energy"], "sort": "title", "page": "2"})
    again, _ = parse({k: [v for kk, v in to_params(q) if kk == k] for k, _v in to_params(q)})
    assert again == q
    assert to_params(Query()) == []


def test_with_text_keeps_the_filters():
    q, _ = parse({"q": "telemedcine", "cluster": "cluj-it", "year": "2020"})
    fixed = q.with_text("telemedicine")
    assert fixed.terms == (Term("telemedicine"),) and fixed.filters == q.filters


def test_the_type_facet_values_are_the_entry_types_the_indexed_models_give():
    from search.documents import INDEXED_MODELS
    from search.query import ENTRY_TYPES

    assert sorted(INDEXED_MODELS.values()) == sorted(ENTRY_TYPES)
