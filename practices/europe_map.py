"""The country map: shapes of Europe and its neighbours (``data/europe-map.json``, built by
``manage.py build_europe_map`` from Natural Earth) shaded by a count per country.

``map_context(counts)`` is all a template needs: countries with their shade, link and accessible
name, the legend, and the counts as rows for the table beside the map.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from django_countries import countries

MAP_PATH = Path(__file__).resolve().parent / "data" / "europe-map.json"
SHADES = 5  # classes 1..5; 0 is "none"
SEARCH_URL = "/search/"


@lru_cache(maxsize=1)
def shapes() -> dict:
    return json.loads(MAP_PATH.read_text())


def codes() -> list[str]:
    """Every country a practice may name: those the map draws and those beyond its frame."""
    return [*dict(countries), "XK"]


def country_name(code: str) -> str:
    return "Kosovo" if code == "XK" else countries.name(code) or code


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


def map_context(counts: dict[str, int], *, params: str = "") -> dict:
    counts = {code: n for code, n in counts.items() if n > 0}
    ranges = classes(max(counts.values(), default=0))
    drawn = set()
    paths = []
    for country in shapes()["countries"]:
        code = country["code"]
        n = counts.get(code, 0)
        drawn.add(code)
        name = country_name(code)
        paths.append(
            {
                "code": code,
                "d": country["d"],
                "count": n,
                "name": name,
                "shade": shade(n, ranges),
                "url": search_link(code, params) if n else "",
            }
        )
    # Linked countries last, so their focus outline is drawn above their neighbours.
    paths.sort(key=lambda p: bool(p["count"]))
    rows = sorted(
        (
            {
                "code": c,
                "name": country_name(c),
                "count": n,
                "url": search_link(c, params),
                "on_map": c in drawn,
            }
            for c, n in counts.items()
        ),
        key=lambda r: (-r["count"], r["name"]),
    )
    return {
        "width": shapes()["width"],
        "height": shapes()["height"],
        "countries": paths,
        "legend": [{"shade": i, "low": low, "high": high} for i, (low, high) in enumerate(ranges, start=1)],
        "rows": rows,
        "total": sum(counts.values()),
    }
