"""Text normalisation shared by every engine: one spelling per word, whatever script or accents.

"Đorđe", "Djordje" and "Ђорђе" are the same word to a member, so they are the same word to search:
case folded, Cyrillic written in Latin letters, diacritics dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

_LOWER_CYRILLIC = {
    # Serbian first, so the Latin spelling Serbs use is what both scripts become.
    "ђ": "dj",
    "ж": "z",
    "ч": "c",
    "ћ": "c",
    "ш": "s",
    "џ": "dz",
    "љ": "lj",
    "њ": "nj",
    "ј": "j",
    # Macedonian.
    "ѓ": "gj",
    "ќ": "kj",
    "ѕ": "dz",
    # Bulgarian.
    "щ": "sht",
    "ъ": "a",
    # Ukrainian and Belarusian.
    "є": "ye",
    "ї": "yi",
    "і": "i",
    "ґ": "g",
    "ў": "u",
    # Russian, and the letters all of them share.
    "ы": "y",
    "э": "e",
    "ё": "e",
    "х": "h",
    "ц": "c",
    "й": "y",
    "ь": "",
    "ю": "yu",
    "я": "ya",
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "з": "z",
    "и": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
}

# Upper-case keys too: the Elasticsearch engine maps characters before its lowercase filter.
CYRILLIC_TO_LATIN: dict[str, str] = {
    **_LOWER_CYRILLIC,
    **{k.upper(): v for k, v in _LOWER_CYRILLIC.items() if k.upper() != k},
}

# Letters that carry no combining mark under NFD, so folding diacritics leaves them as they are.
LATIN_EXTRA: dict[str, str] = {
    "đ": "dj",
    "ł": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ı": "i",
    "þ": "th",
    "ð": "d",
    "ħ": "h",
    "ŧ": "t",
    "ŋ": "ng",
    "ĸ": "k",
    "ŀ": "l",
    "ʼ": "'",
    "·": "",
}

_TABLE = str.maketrans({**_LOWER_CYRILLIC, **LATIN_EXTRA})
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# What SQLite's unicode61 tokenizer treats as a word: letters and digits, nothing else.
_WORD = re.compile(r"[^\W_]+")


def normalize(text: str) -> str:
    """Case-folded, Latin-script, diacritic-free text; word boundaries and punctuation kept."""
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    # Most text is ASCII with a few accented letters, quotes or no-break spaces: their folds replace
    # them one distinct character at a time, when none can join a neighbour (see ``_alone``).
    folded = text.lower()
    for char in non_ascii_chars(folded):
        fold = _alone(char)
        if fold is None:
            return _normalized(text)
        if fold != char:
            folded = folded.replace(char, fold)
    return folded


def _normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    # Translated only when one of the table's letters is there: str.translate is slow on long text.
    if not _TABLE.keys().isdisjoint(map(ord, set(text))):
        text = text.translate(_TABLE)
    text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    if not text.isascii():
        # The marks among the text's distinct characters, dropped in one pass (not one test per character).
        marks = {ord(c): None for c in set(text) if unicodedata.combining(c)}
        text = _COMBINING.sub("", text.translate(marks) if marks else text)
    return unicodedata.normalize("NFC", text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def non_ascii_chars(text: str) -> set[str]:
    """The distinct characters of ``text`` outside ASCII (few in most text, so each is judged once)."""
    return set(_NON_ASCII.findall(text))


@lru_cache(maxsize=16384)
def _alone(char: str) -> str | None:
    """``char`` folded on its own, where that is what it becomes inside any text: None for a mark
    (M*: it combines with the letter before it, and some, such as Tamil's vowel signs, compose with
    it) and for Hangul (jamo compose into syllables). Other characters compose with no neighbour; a
    mark one of them decomposes into is dropped whatever it follows."""
    if unicodedata.category(char).startswith("M") or "HANGUL" in unicodedata.name(char, ""):
        return None
    return _normalized(char)


def words(text: str) -> list[str]:
    """The words of already normalised text, split as the SQLite tokenizer splits them."""
    return _WORD.findall(text)


def tokens(text: str) -> list[re.Match]:
    """Word matches in original text, for highlighting it in place."""
    return list(word_matches(text))


def word_matches(text: str) -> Iterator[re.Match]:
    """The word matches of ``tokens``, one at a time (a window of them is taken without the rest)."""
    return _WORD.finditer(text)


@lru_cache(maxsize=65536)
def normalized_words(word: str) -> tuple[str, ...]:
    """One original word as the normalised words it becomes ("Straße" -> ("strasse",))."""
    return tuple(words(normalize(word)))


# Words too common to say what a text is about: left out of more-like-this queries by every engine.
STOP_WORDS = frozenset(
    """a about after all also an and any are as at be been but by can could do does for from had has
    have how if in into is it its may more most not of on or our out over so such than that the their
    them then there these they this those through to up use used using was we were what when where which
    while who will with within without would you your""".split()
)
