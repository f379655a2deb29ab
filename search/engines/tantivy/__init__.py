"""The embedded tantivy engine (``KB_SEARCH_ENGINE=tantivy``): see ``engine`` and ``store``."""

from search.engines.tantivy.engine import TantivyEngine

__all__ = ["TantivyEngine"]
