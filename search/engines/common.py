"""What every engine does alike, written once beside them so two engines cannot drift apart.

Field weights, the plain snippet shown when nothing is highlighted, how autocomplete merges facet
labels with titles, and how a spelling correction is written back into the query's text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from search.engines.base import Completion
from search.text import tokens

# Relative weight of a match in each searched field (FTS5's bm25 weights, Elasticsearch's boosts),
# in the embedded index's column order.
FIELD_WEIGHTS: dict[str, float] = {"title": 10.0, "summary": 4.0, "tags": 4.0, "names": 2.0, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_WEIGHTS)
SNIPPET_WORDS = 30
# Where a highlighted snippet is looked for: the start of a long text is enough to show why it matched.
SNIPPET_SCAN_CHARS = 20000
# A plain snippet is the first words: this much text nearly always holds them, so a hit of a long
# document is not tokenised whole when browsing with no words.
PLAIN_SCAN_CHARS = 2000


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
