"""The country map: shapes of Europe and its neighbours (``data/europe-map.json``, built by
``manage.py build_europe_map`` from Natural Earth) shaded by a count per country.

``map_context(counts)`` is all a template needs: countries with their shade, link and accessible
name, the legend, and the counts as rows for the table beside the map.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django_countries import countries

from django.utils.html import escape
from django.utils.safestring import mark_safe

MAP_PATH = Path(__file__).resolve().parent / "data" / "europe-map.json"
SHADES = 5  # classes 1..5; 0 is "none"
SEARCH_URL = "/search/"


@lru_cache(maxsize=1)
def shapes() -> dict:
    return json.loads(MAP_PATH.read_text())


def codes() -> list[str]:
    """Every country a practice may name: those the map draws and those beyond its frame."""
    return [*dict(countries), "XK"]


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    return {**{code: str(name) for code, name in countries}, "XK": "Kosovo"}


def country_name(code: str) -> str:
    return _names().get(code, code)


def classes(top: int) -> list[tuple[int, int]]:
    """Count ranges of the shades: geometric steps, since a few countries hold most practices."""
    if top <= 0:
        return []
    bounds = sorted({max(1, round(top ** (i / SHADES))) for i in range(SHADES + 1)})
    ranges, low = [], 1
    for high in bounds[1:] if len(bounds) > 1 else bounds:
        if high >= low:
            ranges.append((low, high))
            low = high + 1
    if not ranges or ranges[-1][1] < top:
        ranges.append((low, top))
    return ranges


def shade(count: int, ranges: list[tuple[int, int]]) -> int:
    if count <= 0:
        return 0
    for i, (low, high) in enumerate(ranges, start=1):
        if low <= count <= high:
            return i
    return len(ranges)


def search_link(code: str, params: str = "") -> str:
    """The search filtered by this country, keeping the other parameters given (already encoded)."""
    return SEARCH_URL + "?" + "&".join(filter(None, [params, urlencode({"country": code})]))


@lru_cache(maxsize=1)
def _countries() -> tuple[tuple[str, str, str], ...]:
    """(code, name, path data) of every country drawn, read and named once per process."""
    # Path data escaped once here, not on every page.
    return tuple((c["code"], country_name(c["code"]), escape(c["d"])) for c in shapes()["countries"])


def _svg_country(name: str, d: str, count: int, shade_class: int, href: str) -> str:
    """A country's shape; ``d`` and ``href`` come escaped, the label is escaped here (as ``format_html``
    would: its wrappers took most of the map's time on every search page)."""
    if not href:
        return f'<path class="shade-0" d="{d}" aria-hidden="true"/>'
    label = html.escape(f"{name}: {count}")
    return (
        f'<a href="{href}" aria-label="{label}"><path class="shade-{shade_class}" d="{d}">'
        f"<title>{label}</title></path></a>"
    )


def map_context(counts: dict[str, int], *, params: str = "") -> dict:
    """What ``includes/country_map.html`` shows for these counts ({ISO code: count})."""
    counts = {code: n for code, n in counts.items() if n > 0}
    ranges = classes(max(counts.values(), default=0))
    hrefs = {code: html.escape(search_link(code, params)) for code in counts}
    drawn = set()
    empty, linked = [], []
    for code, name, d in _countries():
        drawn.add(code)
        n = counts.get(code, 0)
        if n:
            linked.append(_svg_country(name, d, n, shade(n, ranges), hrefs[code]))
        else:
            empty.append(_svg_country(name, d, 0, 0, ""))
    rows = sorted(((country_name(c), c, n) for c, n in counts.items()), key=lambda r: (-r[2], r[0]))
    table = mark_safe(  # noqa: S308 - every part escaped
        "".join(
            f'<tr><td><a href="{hrefs[c]}">{html.escape(name)}</a></td><td class="num">{n}</td></tr>'
            for name, c, n in rows
        )
    )
    return {
        "width": shapes()["width"],
        "height": shapes()["height"],
        # Linked countries last, so their focus outline is drawn above their neighbours.
        "svg_countries": mark_safe("\n".join([*empty, *linked])),  # noqa: S308 - escaped by _svg_country
        "shades": {code: shade(n, ranges) for code, n in counts.items()},
        "legend": [{"shade": i, "low": low, "high": high} for i, (low, high) in enumerate(ranges, start=1)],
        "table_rows": table,
        "beyond_frame": [name for name, c, _ in rows if c not in drawn],
        "total": sum(counts.values()),
    }
