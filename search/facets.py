"""The one registry of facets: what each is called, how a page gives its values, how a value sent in
a request is checked and labelled, in what order facets and values come, whether one is a tree.

Every reader (the query parser, the index documents, the service's filter check, the engines' counts
and autocomplete, the search page, feeds) takes its facets from here, so a facet is defined once.
Lookups import the models lazily: the engines import this module and must not load Django apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

# How many values of one facet the engines return at most (selected values always come too). High
# enough that every value of the real data is reachable; the page shows a few and "Show all N".
FACET_CAP = 1000

ENTRY_TYPES = ("practice", "presentation", "event")
TYPE_LABELS = {"practice": "Practice", "presentation": "Presentation", "event": "Meeting"}


@dataclass(frozen=True)
class PageFacts:
    """What a page gives the facets, gathered once by ``search.documents`` (labels by value)."""

    type: str
    industries: Mapping[str, str] = field(default_factory=dict)  # NACE code -> name, sections too
    cluster: Mapping[str, str] = field(default_factory=dict)  # slug -> title
    countries: Mapping[str, str] = field(default_factory=dict)  # ISO code -> name
    year: int | None = None
    tags: tuple[str, ...] = ()
    themes: Mapping[str, str] = field(default_factory=dict)  # slug -> title


def _industries(values: Iterable[str]) -> dict[str, tuple[str, str]]:
    """By NACE code ("J", "62") or by slug, as industry pages and feeds name them."""
    from django.db.models import Q

    from practices.models import Industry

    values = list(values)
    rows = Industry.objects.filter(Q(code__in=[v.upper() for v in values]) | Q(slug__in=values))
    found = {}
    for code, slug, name in rows.values_list("code", "slug", "name"):
        found[code] = found[slug] = (code, name)
    return {v: found.get(v.upper()) or found[v] for v in values if v.upper() in found or v in found}


def _by_slug(model_name: str) -> Callable[[Iterable[str]], dict[str, tuple[str, str]]]:
    def lookup(values: Iterable[str]) -> dict[str, tuple[str, str]]:
        from practices import models, visibility

        model = getattr(models, model_name)
        values = list(values)
        # Clusters and themes exist for visitors only when the public sees them.
        visible = visibility.visible(model.objects.filter(slug__in=values))
        titles = dict(visible.values_list("slug", "title"))
        return {v: (v, titles[v]) for v in values if v in titles}

    return lookup


def _countries(values: Iterable[str]) -> dict[str, tuple[str, str]]:
    from django_countries import countries

    names = dict(countries)
    return {v: (v, str(names[v])) for v in values if v in names}


def _tags(values: Iterable[str]) -> dict[str, tuple[str, str]]:
    from django.db.models import Q

    from taggit.models import Tag

    from practices import visibility

    values = list(values)
    q = Q()
    for v in values:
        q |= Q(name__iexact=v)
    # A tag exists for visitors only when a page the public sees uses it.
    tags = visibility.visible_tags(Tag.objects.filter(q))
    names = {n.casefold(): n for n in tags.values_list("name", flat=True)}
    return {v: (names[v.casefold()], names[v.casefold()]) for v in values if v.casefold() in names}


def _types(values: Iterable[str]) -> dict[str, tuple[str, str]]:
    return {v: (v, TYPE_LABELS[v]) for v in values if v in TYPE_LABELS}


def _years(values: Iterable[str]) -> dict[str, tuple[str, str]]:
    return {v: (v, v) for v in values}


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    # The page's values, value -> label ("" when the value is its own label).
    from_page: Callable[[PageFacts], Mapping[str, str]]
    # Values sent in a request -> (value as indexed, label), for those that name something.
    lookup: Callable[[Iterable[str]], dict[str, tuple[str, str]]]
    # Whether a value's label is kept in the index beside it (else the value is shown as it is).
    labelled: bool = True
    # A value sent is first normalised, then refused (with ``invalid``) unless ``valid``.
    normalise: Callable[[str], str] = str
    valid: Callable[[str], bool] | None = None
    invalid: str = ""  # the API's 400
    ignored: str = ""  # the page's note
    # How its filter reads in a feed's title ("in Manufacturing", "by Cluj IT Cluster").
    phrase: str = "{label}"
    # Values form a tree (industry: NACE sections with their divisions beneath).
    hierarchical: bool = False
    # Offered by autocomplete as a filter.
    suggest: bool = False
    # Long facets get a filter box on the search page.
    filterable: bool = False

    # Fixed labels of values that carry none in the index (content types).
    fixed_labels: Mapping[str, str] = field(default_factory=dict)

    def value_label(self, value: str, label: str = "") -> str:
        """The label a member reads for a value the engine returned."""
        return self.fixed_labels.get(value) or label or value


REGISTRY: tuple[Facet, ...] = (
    Facet(
        "industry",
        "Industry",
        from_page=lambda p: p.industries,
        lookup=_industries,
        phrase="in {label}",
        hierarchical=True,
        suggest=True,
    ),
    Facet(
        "cluster",
        "Cluster",
        from_page=lambda p: p.cluster,
        lookup=_by_slug("ClusterPage"),
        phrase="by {label}",
        suggest=True,
        filterable=True,
    ),
    Facet(
        "country",
        "Country",
        from_page=lambda p: p.countries,
        lookup=_countries,
        normalise=str.upper,
        phrase="from {label}",
        filterable=True,
    ),
    Facet(
        "type",
        "Content type",
        from_page=lambda p: {p.type: ""},
        lookup=_types,
        labelled=False,
        fixed_labels=TYPE_LABELS,
        valid=lambda v: v in ENTRY_TYPES,
        invalid="Unknown type {value!r}: use one of " + ", ".join(ENTRY_TYPES) + ".",
        ignored="Unknown type {value!r} was ignored.",
        phrase="of type {label}",
    ),
    Facet(
        "year",
        "Year",
        from_page=lambda p: {str(p.year): ""} if p.year else {},
        lookup=_years,
        labelled=False,
        valid=lambda v: v.isdigit() and len(v) == 4,
        invalid="Year {value!r} is not a four-digit year.",
        ignored="Year {value!r} was ignored.",
        phrase="of {label}",
    ),
    Facet(
        "tag",
        "Tag",
        from_page=lambda p: dict.fromkeys(p.tags, ""),
        lookup=_tags,
        labelled=False,
        phrase="tagged {label}",
        suggest=True,
        filterable=True,
    ),
    Facet(
        "theme",
        "Theme",
        from_page=lambda p: p.themes,
        lookup=_by_slug("ThemePage"),
        phrase="in the theme {label}",
    ),
)

BY_NAME: dict[str, Facet] = {f.name: f for f in REGISTRY}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# Autocomplete offers these facets' values, in this order when counts and labels tie.
SUGGESTED: tuple[str, ...] = ("tag", "cluster", "industry")
assert set(SUGGESTED) == {f.name for f in REGISTRY if f.suggest}


def ordered(counts: Iterable, chosen: Iterable[str] = (), cap: int = FACET_CAP) -> list:
    """Facet counts as every engine returns them: most entries first, then by label and value; at
    most ``cap`` values, plus any selected value beyond them (so a ticked value never disappears)."""
    chosen = set(chosen)
    out = sorted(counts, key=lambda c: (-c.count, c.label.casefold(), c.value))
    if len(out) > cap:
        out = out[:cap] + [c for c in out[cap:] if c.value in chosen or c.selected]
    return out


def parents(values: Iterable[str]) -> dict[str, str]:
    """Industry code -> its section's code, for the divisions among ``values``."""
    tree = _industry_tree()
    return {v: tree[v] for v in values if v in tree}


@lru_cache(maxsize=1)
def _industry_tree() -> dict[str, str]:
    # NACE codes and their sections are loaded at migrate time and never edited (only names are):
    # one query per process.
    from practices.models import Industry

    return dict(Industry.objects.filter(level=2).values_list("code", "parent__code"))
