"""What every engine takes and gives: index entries in, results out.

An engine is the only place that knows its store. It never decides what may be indexed (that is
``search.documents``) and never renders (that is the views); it matches, ranks, counts, highlights.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from search.query import Query

# More-like-this, alike in every engine: a page's most telling words (at most SIMILAR_TERMS, by
# tf-idf, found in at least one other entry), matched in these fields of other practices.
SIMILAR_FIELDS = ("title", "summary", "tags")
SIMILAR_TERMS = 12


@dataclass(frozen=True)
class DocumentPart:
    """Where in an attached document an entry's text comes from."""

    document_id: int
    filename: str
    page: int  # 1-based page or slide number
    unit: str  # "page" or "slide"
    url: str  # link that opens the document there (#page=N for PDF)


@dataclass(frozen=True)
class Entry:
    """One indexable unit: a page, or one page/slide of a document attached to a page.

    ``facets`` maps every facet name of ``search.query.FACETS`` that applies to a list of values;
    a document part carries the facets of the page it belongs to.
    """

    key: str  # "page:12" or "doc:12:34:7" (page 12, document 34, page 7)
    page_id: int
    type: str  # practice | presentation | event
    title: str
    url: str
    path: str  # Wagtail tree path, for per-site filtering
    summary: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    # Names searched as text (cluster, industries, countries, organisation).
    names: str = ""
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date: datetime | None = None  # first published: the "newest" sort
    # When the page (or an ancestor) is set to expire: engines drop the entry from results from
    # then on, before ``publish_scheduled`` unpublishes it.
    expires: datetime | None = None
    # Shown with the hit, never searched.
    display: dict = field(default_factory=dict)
    # Human labels of this entry's facet values: {"cluster": {"cluj-it-cluster": "Cluj IT Cluster"}}.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    document: DocumentPart | None = None


@dataclass
class Hit:
    key: str
    page_id: int
    type: str
    title: str
    url: str
    title_html: str  # HTML-escaped title with <mark> around matched words
    snippet_html: str  # HTML-escaped passage with <mark> around matched words
    score: float = 0.0
    display: dict = field(default_factory=dict)
    document: DocumentPart | None = None


@dataclass
class FacetCount:
    value: str
    count: int
    selected: bool = False
    label: str = ""


@dataclass
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    # A spelling correction of the query's words, when some word is unknown to the index.
    correction: str | None = None
    # Set by the service when it showed the correction's results because the query had none.
    corrected_from: str | None = None
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Completion:
    """One autocomplete proposal for what is being typed."""

    text: str
    kind: str  # title | tag | cluster | industry
    url: str = ""  # a title's page
    value: str = ""  # a facet value (tag, cluster slug, industry code) to filter by


class EngineUnavailable(RuntimeError):
    """The engine cannot answer now (server down, timeout); the service falls back or queues."""


class IndexMismatch(RuntimeError):
    """A rebuilt index does not hold the expected pages; it was not swapped in, the live one is kept."""


class EngineBroken(EngineUnavailable):
    """The engine's index is damaged, missing or of another layout: it must be rebuilt before it can
    answer again (the service answers from elsewhere meanwhile and rebuilds it in the background)."""


class Engine(ABC):
    """Every operation callers use, so none ever asks "does this engine have ...?".

    As Wagtail's ``BaseSearchBackend``: subclasses implement the abstract methods and may override the
    defaults (``replace_pages`` in one write, a richer ``health``). Every method may raise
    ``EngineUnavailable`` when the engine cannot answer now.
    """

    name: ClassVar[str]
    #: Writes go through the durable queue (``search.queue``): the engine is a server that can be
    #: away, so an update it cannot take now is kept and replayed in order. An embedded engine
    #: writes at once.
    queued_writes: ClassVar[bool] = False

    @abstractmethod
    def search(self, query: Query) -> Results:
        """Matches, facet counts, highlights and a spelling ``correction`` for one parsed query.

        With ``query.pages_only`` (a browse) document parts are left out of hits, total and counts."""

    @abstractmethod
    def autocomplete(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Completion]:
        """Tags, clusters and industries whose label starts with the typed words, then titles.

        The labels take at most half of ``limit`` unless titles leave room.
        ``within``: tree paths of the sites to look in (all when empty).
        """

    @abstractmethod
    def similar(self, page_id: int, *, limit: int = 6, within: tuple[str, ...] = ()) -> list[Hit]:
        """Other practices most like this page's own entry (title, summary, tags), best first.

        More-like-this: never the page itself nor any document part; only what search shows
        (indexed, unexpired, under ``within``). A page the index does not hold has none.
        """

    @abstractmethod
    def index(self, entries: Iterable[Entry]) -> int:
        """Insert or replace entries by key; returns how many were written."""

    @abstractmethod
    def remove_pages(self, page_ids: Iterable[int]) -> int:
        """Remove every entry of these pages (their own and their documents' parts)."""

    def replace_pages(self, page_ids: Iterable[int], entries: Iterable[Entry]) -> int:
        """Give these pages exactly these entries (none: they leave the index); returns entries written.

        The default removes, then indexes; an engine that can should do it in one write, so no search
        sees the pages missing in between. Removing first drops document parts the pages no longer have.
        """
        self.remove_pages(page_ids)
        entries = list(entries)
        return self.index(entries) if entries else 0

    @abstractmethod
    def rebuild(self, entries: Iterable[Entry], *, expected_page_ids: set[int] | None = None) -> int:
        """Build a new index aside from these entries, then swap it in; the live one never empties.

        With ``expected_page_ids`` the new index must hold exactly those pages, or it is dropped and
        ``IndexMismatch`` raised, the live index untouched. The set may be filled while ``entries`` is
        consumed: read it only after. Returns how many entries were written.
        """

    @abstractmethod
    def count(self) -> int:
        """Entries in the live index."""

    @abstractmethod
    def page_ids(self) -> set[int]:
        """Ids of the pages the index holds (to check it against the live public pages)."""

    def health(self) -> dict[str, Any]:
        """What the admin's health panel shows: reachable, entries, pages, error (and engine extras)."""
        try:
            return {"reachable": True, "entries": self.count(), "pages": len(self.page_ids()), "error": ""}
        except EngineUnavailable as exc:
            return {"reachable": False, "entries": None, "pages": None, "error": str(exc)}
