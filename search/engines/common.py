"""What every engine does alike, written once beside them so two engines cannot drift apart.

Field weights, the plain snippet shown when nothing is highlighted, how autocomplete merges facet
labels with titles, and how a spelling correction is written back into the query's text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import compress, islice

from search.engines.base import Completion
from search.query import Query
from search.text import normalize, normalized_words, tokens, word_matches, words

# Relative weight of a match in each searched field (FTS5's bm25 weights, Elasticsearch's boosts),
# in the embedded index's column order.
FIELD_WEIGHTS: dict[str, float] = {"title": 10.0, "summary": 4.0, "tags": 4.0, "names": 2.0, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_WEIGHTS)
SNIPPET_WORDS = 30
# The field weights in column order (FTS5's bm25 arguments, tantivy's boosts).
WEIGHTS = tuple(FIELD_WEIGHTS.values())
# Where a highlighted snippet is looked for: the start of a long text is enough to show why it matched.
SNIPPET_SCAN_CHARS = 20000
# A plain snippet is the first words: this much text nearly always holds them, so a hit of a long
# document is not tokenised whole when browsing with no words.
PLAIN_SCAN_CHARS = 2000
# A Matcher remembers at most this many words' verdicts.
SEEN_WORDS = 50000


def nfc(text: str) -> str:
    """Composed, so a letter typed with a separate accent stays one word."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def plain_snippet(summary: str, body: str) -> str:
    """The first ~30 words of the summary, else of the body, HTML-escaped, with " …" if there is more."""
    for text in (summary or "", body or ""):
        window = _first_words(text)
        if not window:
            continue
        head = window[-1].string
        start, end = window[0].start(), window[-1].end()
        if end < len(head) and head[end] in ".!?":
            end += 1
        more = " …" if end < len(head.rstrip()) or len(head) < len(text.rstrip()) else ""
        return html.escape(head[start:end]) + more
    return ""


def _first_words(text: str) -> list[re.Match]:
    for bound in (PLAIN_SCAN_CHARS, SNIPPET_SCAN_CHARS):
        head = nfc(text[:bound])
        found = tokens(head)
        # One word more than needed: the last one kept is then whole, not cut at the bound.
        if len(found) > SNIPPET_WORDS or len(text) <= bound:
            return found[:SNIPPET_WORDS]
    return found[:SNIPPET_WORDS]


def unique_titles(rows: Iterable[tuple[str, str]], limit: int) -> list[Completion]:
    """Title completions from (title, url) rows, best first, one per title whatever its case."""
    titles: list[Completion] = []
    seen: set[str] = set()
    for title, url in rows:
        if len(titles) >= limit:
            break
        if title.casefold() not in seen:
            seen.add(title.casefold())
            titles.append(Completion(text=title, kind="title", url=url))
    return titles


def merge_completions(
    labels: Iterable[tuple[int, str, Completion]], titles: list[Completion], limit: int
) -> list[Completion]:
    """Facet labels (by how many entries have them, then alphabetically) first, then titles; the labels
    take at most half the list unless titles leave room. ``labels``: (entries, label, completion)."""
    ordered = sorted(labels, key=lambda x: (-x[0], x[1].casefold()))
    room = max(limit - len(titles), (limit + 1) // 2)
    return ([c for _, _, c in ordered[:room]] + titles)[:limit]


def apply_correction(text: str, fixes: Iterable[tuple[str, str]]) -> str | None:
    """``text`` with each typed word replaced by its correction (first whole-word occurrence, any case);
    None when nothing changed."""
    changed = False
    for word, fixed in fixes:
        pattern = rf"(?<![\w-]){re.escape(word)}(?!\w)"
        text, n = re.subn(pattern, lambda _m, fixed=fixed: fixed, text, count=1, flags=re.IGNORECASE)
        changed = changed or bool(n)
    return text if changed else None


def starts_words(label_words: list[str], typed: list[str]) -> bool:
    """Every typed word starts some word of the label; the last one may be partial."""
    return all(
        any(lw == w or (i == len(typed) - 1 and lw.startswith(w)) for lw in label_words)
        for i, w in enumerate(typed)
    )


def edit_distance(a: str, b: str, cap: int = 2) -> int:
    """Damerau-Levenshtein (adjacent transpositions), giving up past ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2 = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[-1]


def spelling(
    query: Query, known: Callable[[str], bool], vocabulary: Callable[[str], dict[str, int]]
) -> str | None:
    """The query's words with each unknown one replaced by the closest known word (None: no change).

    ``known(word)``: the index matches the word; ``vocabulary(word)``: candidate words and their
    document counts. Phrases, prefixes, numbers and words under three letters are left alone; a word
    is corrected by at most ``edits_allowed`` edits.
    """
    fixes = []
    for t in query.positive_terms:
        if t.prefix or t.phrase:
            continue
        ws = words(normalize(t.text))
        if len(ws) != 1 or len(ws[0]) < 3 or ws[0].isdigit():
            continue
        word = ws[0]
        if known(word):
            continue
        best = closest(word, vocabulary(word), cap=edits_allowed(word))
        if best:
            fixes.append((t.text, best))
    return apply_correction(query.text, fixes)


def edits_allowed(word: str) -> int:
    """How many edits a spelling correction may make to ``word``: one up to five letters, two beyond
    (Lucene's AUTO fuzziness; so "отпад", read "otpad", is not turned into "opted")."""
    return 1 if len(word) <= 5 else 2


def closest(word: str, vocab: dict[str, int], cap: int = 2) -> str | None:
    """The known word nearest to ``word`` (within ``cap`` edits), the commoner on a tie."""
    best, best_key = None, None
    for cand, df in vocab.items():
        if df <= 0 or abs(len(cand) - len(word)) > cap or cand[0] not in word[:2] or cand == word:
            continue
        d = edit_distance(word, cand, cap)
        if d <= cap:
            key = (d, -df, cand)
            if best_key is None or key < best_key:
                best, best_key = cand, key
    return best


def mark(text: str, matcher: Matcher) -> str:
    """``text`` HTML-escaped, with <mark> around the words the query matched."""
    text = nfc(text)
    if not matcher.can_match:
        return html.escape(text)
    toks = tokens(text)
    out, last = [], 0
    for m, matched in zip(toks, matcher.each([m.group() for m in toks]), strict=True):
        if matched:
            out.append(html.escape(text[last : m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def highlighted(title: str, summary: str, body: str, matcher: Matcher | None) -> tuple[str, str]:
    """A hit's title and snippet as HTML: the matched words marked, or (browsing, no matcher) the
    title escaped and the plain start of the text."""
    title_html = mark(title, matcher) if matcher is not None else html.escape(title)
    return title_html, snippet(summary, body, matcher)


def snippet(summary: str, body: str, matcher: Matcher | None) -> str:
    """The ~30-word passage of summary and body with the most matched words, highlighted; without a
    matcher (browsing, no words) the plain start of the summary or body."""
    if matcher is None:
        return plain_snippet(summary, body)
    text = nfc((summary + " " + body)[:SNIPPET_SCAN_CHARS])
    if not text.strip():
        return ""
    found = words(text)
    hits = list(compress(range(len(found)), matcher.each(found)))
    best = 0
    if hits:
        # Slide a window over the matched positions; keep the one holding the most matches.
        j, top = 0, -1
        for i in range(len(hits)):
            while hits[i] - hits[j] >= SNIPPET_WORDS:
                j += 1
            if i - j + 1 > top:
                top, best = i - j + 1, hits[j]
        best = max(0, min(best - 3, len(found) - SNIPPET_WORDS))
    window = list(islice(word_matches(text), best, best + SNIPPET_WORDS))
    if not window:
        return ""
    start, end = window[0].start(), window[-1].end()
    if end < len(text) and text[end] in ".!?":
        end += 1
    passage = mark(text[start:end], matcher)
    return ("… " if best else "") + passage + (" …" if end < len(text.rstrip()) else "")


class Matcher:
    """Whether a word of original text is one the query matched: same stem, or a prefix term's start.

    ``stem`` is the engine's own stemmer, so a word is highlighted exactly when the engine matched it.
    Verdicts are remembered (up to SEEN_WORDS, then begun afresh), so a Matcher kept for a repeated
    query (``matcher``) judges each word once.
    """

    def __init__(self, stem: Callable[[str], str], stems: frozenset[str], prefixes: tuple[str, ...]):
        self.stem, self.stems, self.prefixes = stem, stems, prefixes
        # A stemmer changes a word's end, never its first letter (it may drop a one-letter word
        # whole): only words starting as a stem does are stemmed, stemming being most of the cost
        # of judging a word the first time.
        self.initials = None if "" in stems else frozenset(s[:1] for s in stems)
        # Without words or prefixes (a browse) nothing can match: no word is even looked at.
        self.can_match = bool(stems or prefixes)
        self.seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        return next(self.each([word]))

    def each(self, words: list[str]) -> Iterator[bool]:
        """Whether each of ``words`` matched: every distinct word judged once, then looked up in C."""
        if not self.can_match:
            return iter([False] * len(words))
        seen = self._seen()
        for word in set(words).difference(seen):
            seen[word] = self._judge(word)
        return map(seen.__getitem__, words)

    def _seen(self) -> dict[str, bool]:
        # Replaced, never cleared: a thread still reading the old dict finds every word it judged.
        if len(self.seen) > SEEN_WORDS:
            self.seen = {}
        return self.seen

    def _judge(self, word: str) -> bool:
        found = normalized_words(word)
        if self.prefixes and any(w.startswith(self.prefixes) for w in found):
            return True
        if self.initials is not None and not any(w[:1] in self.initials for w in found):
            return False
        return not self.stems.isdisjoint(_forms(self.stem, word))


@lru_cache(maxsize=65536)
def _forms(stem: Callable[[str], str], word: str) -> frozenset[str]:
    """One original word's normalised words and their stems: kept across searches, so a new query's
    Matcher does not stem again the words of texts shown before."""
    return frozenset(f for w in normalized_words(word) for f in (w, stem(w)))


@lru_cache(maxsize=32)
def matcher(stem: Callable[[str], str], stems: frozenset[str], prefixes: tuple[str, ...]) -> Matcher:
    """The Matcher of a query's terms, kept while the query stays among the latest searched."""
    return Matcher(stem, stems, prefixes)


def query_matcher(query: Query, stem: Callable[[str], str], *, stem_prefixes: bool = False) -> Matcher:
    """The Matcher of a query's positive terms: a one-word prefix term matches the words it starts
    (and, with ``stem_prefixes``, its stem's words too, for an engine whose prefix query reads stems);
    every other word matches by its stem."""
    stems, prefixes = set(), []
    for t in query.positive_terms:
        ws = words(normalize(t.text))
        if t.prefix and len(ws) == 1:
            prefixes.append(ws[0])
            if stem_prefixes:
                stems.add(stem(ws[0]))
        else:
            stems.update(stem(w) for w in ws)
    return matcher(stem, frozenset(stems), tuple(prefixes))
