"""What the admin asks of the index: pages matching words, best first (its search backend), and the
pages one engine holds (the rebuild command's check)."""

from __future__ import annotations

from search.query import Query, Term, parse_terms

from . import registry
from .searching import answer


def engine_page_ids(name: str) -> set[int]:
    for engine in registry.engines():
        if engine.name == name:
            return engine.page_ids()
    return set()


def ranked_page_ids(
    text: str, *, limit: int = 1000, prefix_last: bool = False, match_any: bool = False
) -> list[int]:
    """Ids of the indexed pages matching ``text``, best first (the admin's search backend asks this).

    Every site's pages; no facets, highlights or logging. With ``prefix_last`` the last word
    matches as a prefix, as the admin searches while typing; with ``match_any`` any word matches.
    """
    terms = parse_terms(text)
    if prefix_last and terms and not (terms[-1].phrase or terms[-1].negated) and len(terms[-1].text) >= 2:
        last = terms[-1]
        terms = (*terms[:-1], Term(last.text, prefix=True))
    query = Query(
        text=text, terms=terms, per_page=limit, with_facets=False, with_highlights=False, match_any=match_any
    )
    if query.is_empty:
        return []
    return list(dict.fromkeys(h.page_id for h in answer(query).hits))
