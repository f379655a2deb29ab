"""What every engine takes and gives: index entries in, results out.

An engine is the only place that knows its store. It never decides what may be indexed (that is
``search.documents``) and never renders (that is the views); it matches, ranks, counts, highlights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from search.query import Query


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
    suggestion: str | None = None
    # Set by the service when it showed the suggestion's results because the query had none.
    corrected_from: str | None = None
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # title | tag | cluster | industry
    url: str = ""  # a title's page
    value: str = ""  # a facet value (tag, cluster slug, industry code) to filter by


class EngineUnavailable(RuntimeError):
    """The engine cannot answer now (server down, timeout); the service falls back or queues."""


class EngineBroken(EngineUnavailable):
    """The engine's index is damaged, missing or of another layout: it must be rebuilt before it can
    answer again (the service answers from elsewhere meanwhile and rebuilds it in the background)."""


class Engine(Protocol):
    name: str

    def search(self, query: Query) -> Results: ...

    def suggest(self, prefix: str, limit: int = 8, within: tuple[str, ...] = ()) -> list[Suggestion]: ...

    def index(self, entries: Iterable[Entry]) -> int:
        """Insert or replace entries by key; returns how many were written."""

    def remove_pages(self, page_ids: Iterable[int]) -> int:
        """Remove every entry of these pages (their own and their documents' parts)."""

    def rebuild(self, entries: Iterable[Entry], *, expected_page_ids: set[int] | None = None) -> int:
        """Build a new index aside from these entries, then swap it in; the live one never empties.

        With ``expected_page_ids`` an engine that can check its new index against them refuses to
        swap it in when they differ. The set is complete only once ``entries`` is consumed; the
        service passes it only to engines whose ``rebuild`` accepts it.
        """

    def count(self) -> int: ...

    def page_ids(self) -> set[int]:
        """Ids of the pages the index holds (to check it against the live public pages)."""
