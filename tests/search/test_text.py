import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.text import CYRILLIC_TO_LATIN, normalize, normalized_words, words


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Đorđe", "djordje"),
        ("Djordje", "djordje"),
        ("Ђорђе", "djordje"),
        ("ĐORĐE", "djordje"),
        ("Нови Сад", "novi sad"),
        ("Novi Sad", "novi sad"),
        ("novi sad", "novi sad"),
        ("Timișoara", "timisoara"),
        ("Timişoara", "timisoara"),
        ("Čačak", "cacak"),
        ("Šabac Žabalj", "sabac zabalj"),
        ("Ниш Чачак Шабац Жабаљ", "nis cacak sabac zabalj"),
        ("Љубљана Њујорк Џеп", "ljubljana njujork dzep"),
        ("Ћуприја", "cuprija"),
        ("Ѓорче Ќерка Ѕвезда", "gjorce kjerka dzvezda"),
        ("Щит ъгъл", "shtit agal"),
        ("Єва Їжак Ґанок", "yeva yizak ganok"),
        ("Ёлка Эхо Ы", "elka eho y"),
        ("Łódź", "lodz"),
        ("Straße", "strasse"),
        ("Ærø Øresund", "aero oresund"),
        ("İstanbul ılık", "istanbul ilik"),
        ("ﬁnance Ｆｕｌｌ", "finance full"),
        ("e\u0301cole", "ecole"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_table_has_both_cases_and_ascii_values():
    assert CYRILLIC_TO_LATIN["ђ"] == CYRILLIC_TO_LATIN["Ђ"] == "dj"
    assert CYRILLIC_TO_LATIN["Щ"] == "sht"
    for key, value in CYRILLIC_TO_LATIN.items():
        assert len(key) == 1 and "CYRILLIC" in unicodedata.name(key)
        assert value == "" or (value.isascii() and value.isalpha() and value.islower())
    lower = {k for k in CYRILLIC_TO_LATIN if k.islower()}
    assert {k.upper() for k in lower} <= set(CYRILLIC_TO_LATIN)


def test_table_agrees_with_normalize():
    for key, value in CYRILLIC_TO_LATIN.items():
        assert normalize(f"x{key}x") == f"x{value}x"


def test_words_split_like_the_tokenizer():
    assert words(normalize("Smart-city: IoT_sensors (2024), don't")) == [
        "smart", "city", "iot", "sensors", "2024", "don", "t",
    ]  # fmt: skip
    assert normalized_words("Straße") == ("strasse",)
    assert normalized_words("🙂") == ()


@given(st.text())
def test_normalize_is_idempotent_and_caseless(text):
    once = normalize(text)
    assert normalize(once) == once
    assert normalize(text.upper()) == normalize(text.lower()) or not text.isascii()


@given(st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll")), max_size=30))
def test_latin_and_cyrillic_letters_fold_to_ascii(text):
    out = normalize(text)
    latin_or_cyrillic = all(
        "LATIN" in unicodedata.name(c, "") or "CYRILLIC" in unicodedata.name(c, "") for c in text
    )
    basic = all(ord(c) < 0x180 or c in CYRILLIC_TO_LATIN for c in text)  # Latin-1, Extended-A
    if latin_or_cyrillic and basic:
        assert out.isascii(), (text, out)


# Characters that tempt a character-at-a-time fold to go wrong: marks, Hangul, half-width kana and
# their voiced marks, final sigma, Cherokee, dotted I, ligatures, compatibility letters, spaces.
TRICKY = "e\u0301\u0308ИиІ\u0306ΣσςΆά\u0344ꭰᏸİıǅǄßẞﬁﬀ™₂²½\xa0\u200b\u2019ｶﾞﾟ\u3099\u309bカ가\u1100\u1161\u11a8\u0bc6\u0bbe\u0b95\u093f\u0915ŉǰ"


@given(st.text())
def test_each_character_folds_as_inside_the_whole_text(text):
    """``normalize`` folds the few distinct characters of most text one at a time; whatever the text,
    that gives what folding the whole text at once gives."""
    from search.text import _normalized

    assert normalize(text) == _normalized(text)


@settings(max_examples=1000)
@given(st.text(alphabet=st.sampled_from(TRICKY + "AbZ -'"), max_size=12))
def test_tricky_characters_fold_as_inside_the_whole_text(text):
    from search.text import _normalized

    assert normalize(text) == _normalized(text)


@pytest.mark.parametrize(
    "text",
    [
        "x\u0bc6\u0bbe",  # Tamil: two vowel signs compose into one (U+0BCA)
        "x\u1100\u1161\u11a8",  # Hangul jamo compose into a syllable
        "ｶﾞ",  # a half-width voiced mark joins the kana before it
        "école e\u0301",
        "İstanbul",
        "ΟΔΟΣ ΣΟΦΟΣ",
    ],
)
def test_characters_that_join_their_neighbours_fold_as_inside_the_whole_text(text):
    from search.text import _normalized

    assert normalize(text) == _normalized(text)
