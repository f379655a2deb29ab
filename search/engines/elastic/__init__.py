"""The Elasticsearch engine: the same search as the embedded engine, for a knowledge base on a cluster.

One index of entries, versioned behind an alias, so a rebuild fills a new index aside and swaps the
alias in one atomic call. Facet values are stored as keywords carrying their labels, and each facet
is counted by a filter aggregation holding every other facet's filter while the selected values
apply as ``post_filter``: disjunctive counts over the whole match set, as the embedded engine gives.

Words match exactly (after stemming and folding), as in the embedded engine, so both engines find
the same pages; typos are handled by the phrase suggester's fuzzy candidates (``max_edits`` 2), whose
correction the service runs when the query itself finds nothing.

Split by role, as Wagtail's own Elasticsearch backend is: ``mapping`` (analysers, the stored
document), ``queries`` (requests, no I/O), ``responses`` (answers read back, no I/O), ``client``
(calls, outage mapping), ``lifecycle`` (versioned names, journal, write block, alias swap) and
``engine`` (the Engine operations).
"""

from search.engines.base import IndexMismatch
from search.engines.elastic.client import IndexWriteError
from search.engines.elastic.engine import ElasticEngine
from search.engines.elastic.mapping import SEP, facet_key, index_body, to_source
from search.engines.elastic.queries import FIELD_BOOSTS, PREFIX_BOOSTS

__all__ = [
    "FIELD_BOOSTS",
    "PREFIX_BOOSTS",
    "SEP",
    "ElasticEngine",
    "IndexMismatch",
    "IndexWriteError",
    "facet_key",
    "index_body",
    "to_source",
]
