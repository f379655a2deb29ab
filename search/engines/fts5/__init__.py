"""The embedded engine: SQLite FTS5 in its own database file, next to the site.

The index is a derived artefact: ``rebuild`` writes a new versioned file aside and swaps a pointer
file, so searches never see a half-built index, and replays what was written meanwhile. Facet
counts come from per-value bitsets over rowids, kept in the index by every write and loaded as
Python ints once per process and generation (a counter every write bumps).

Modules: ``schema`` (tables, layout version, rows <-> entries), ``store`` (files, locks,
connections, rebuild aside, catch-up), ``writing``, ``bitsets``, ``ranking``, ``spelling`` (did you
mean, autocomplete) and ``engine`` (search, facets, hits, similar), which puts them together.
"""

from search.engines.fts5.engine import Fts5Engine

__all__ = ["Fts5Engine"]
