"""The one search interface: every caller (page, API, feeds, exports, signals) goes through here.

Visibility is decided once, in ``search.documents``, when entries are written; a query is limited to
the current site by ``Query.within``. The work is split by job: ``registry`` (which engine answers),
``searching`` (the search itself), ``indexing`` (keeping the index up to date) and ``ranking`` (what
the admin's search asks); callers use the names below, as ``service.search(query)``.
"""

from .indexing import (
    catch_up,
    index_missing,
    index_pages,
    owe,
    page_ids_with,
    rebuild,
    remove_pages,
    replay_queue,
    settle,
)
from .ranking import engine_page_ids, ranked_page_ids
from .registry import (
    EMBEDDED,
    fallback_engine,
    get_engine,
    health,
    reset_engine,
)
from .searching import (
    ANY_WORDS_NOTICE,
    DATABASE_NOTICE,
    FALLBACK_NOTICE,
    SimilarPractice,
    autocomplete,
    check_filters,
    connect,
    facet_counts,
    promotions,
    search,
    similar_practices,
    site_paths,
    visible_page_ids,
    within_for,
)

__all__ = [
    "ANY_WORDS_NOTICE",
    "DATABASE_NOTICE",
    "EMBEDDED",
    "FALLBACK_NOTICE",
    "SimilarPractice",
    "autocomplete",
    "catch_up",
    "check_filters",
    "connect",
    "engine_page_ids",
    "facet_counts",
    "fallback_engine",
    "get_engine",
    "health",
    "index_missing",
    "index_pages",
    "owe",
    "page_ids_with",
    "promotions",
    "ranked_page_ids",
    "rebuild",
    "remove_pages",
    "replay_queue",
    "reset_engine",
    "search",
    "settle",
    "similar_practices",
    "site_paths",
    "visible_page_ids",
    "within_for",
]
