"""Build ``practices/data/europe-map.json``, the country map's shapes, from Natural Earth's countries
as TopoJSON (the npm package ``world-atlas``, fetched by hand, never at run time):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python manage.py build_europe_map package/countries-50m.json

Projects Europe and its neighbours (Lambert azimuthal equal-area centred on 52N 10E, as EPSG:3035),
clips them to the frame, simplifies them (Douglas-Peucker) and writes one SVG path per ISO 3166-1
alpha-2 code. Kosovo, which has no ISO numeric code, becomes XK; Northern Cyprus is drawn with Cyprus.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from django_countries import countries

from django.core.management.base import BaseCommand

from practices.europe_map import MAP_PATH

CENTRE = (10.0, 52.0)
SCALE = 0.00011  # SVG units per metre: the frame is about 620 units wide
FRAME = (-2700_000.0, -2650_000.0, 2900_000.0, 2250_000.0)  # x0, y0, x1, y1 in projected metres
TOLERANCE = 0.5  # SVG units
MIN_AREA = 1.0  # square SVG units: smaller islands are dropped, unless a country has nothing bigger
BY_NAME = {"Kosovo": "XK", "N. Cyprus": "CY"}
R = 6371_007.0


def laea(lon: float, lat: float) -> tuple[float, float]:
    lam, phi = math.radians(lon - CENTRE[0]), math.radians(lat)
    phi0 = math.radians(CENTRE[1])
    k = math.sqrt(2 / (1 + math.sin(phi0) * math.sin(phi) + math.cos(phi0) * math.cos(phi) * math.cos(lam)))
    x = R * k * math.cos(phi) * math.sin(lam)
    y = R * k * (math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(lam))
    return x, y


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs, indices) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def clip(points, x0, y0, x1, y1):
    """Sutherland-Hodgman against the frame's four edges."""
    edges = [
        (lambda p: p[0] >= x0, lambda a, b: (x0, a[1] + (b[1] - a[1]) * (x0 - a[0]) / (b[0] - a[0]))),
        (lambda p: p[0] <= x1, lambda a, b: (x1, a[1] + (b[1] - a[1]) * (x1 - a[0]) / (b[0] - a[0]))),
        (lambda p: p[1] >= y0, lambda a, b: (a[0] + (b[0] - a[0]) * (y0 - a[1]) / (b[1] - a[1]), y0)),
        (lambda p: p[1] <= y1, lambda a, b: (a[0] + (b[0] - a[0]) * (y1 - a[1]) / (b[1] - a[1]), y1)),
    ]
    for inside, cross in edges:
        if not points:
            return []
        out = []
        prev = points[-1]
        for cur in points:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
        points = out
    return points


def simplify(points, tolerance):
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy) or 1e-12
        best, index = 0.0, None
        for i in range(a + 1, b):
            px, py = points[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if (dx or dy) else math.hypot(px - ax, py - ay)
            if d > best:
                best, index = d, i
        if index is not None and best > tolerance:
            keep[index] = True
            stack += [(a, index), (index, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(points) -> float:
    return (
        abs(
            sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True))
        )
        / 2
    )


def path(rings) -> str:
    parts = []
    for points in rings:
        coords = [(round(x, 1), round(y, 1)) for x, y in points]
        first, rest = coords[0], coords[1:]
        parts.append(f"M{first[0]:g} {first[1]:g}" + "".join(f"L{x:g} {y:g}" for x, y in rest) + "Z")
    return "".join(parts)


class Command(BaseCommand):
    help = "Build practices/data/europe-map.json from Natural Earth countries TopoJSON (world-atlas)."

    def add_arguments(self, parser):
        parser.add_argument("topojson", help="countries-50m.json of the world-atlas npm package")

    def handle(self, topojson, **options):
        topo = json.loads(Path(topojson).read_text())
        arcs = decode_arcs(topo)
        x0, y0, x1, y1 = FRAME
        width, height = (x1 - x0) * SCALE, (y1 - y0) * SCALE
        shapes: dict[str, list] = {}
        for geometry in topo["objects"]["countries"]["geometries"]:
            name = geometry["properties"]["name"]
            code = BY_NAME.get(name) or (countries.alpha2(geometry["id"]) if geometry.get("id") else None)
            if not code:
                continue
            polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
            for polygon in polygons:
                for indices in polygon:
                    projected = [
                        laea(lon, lat) for lon, lat in ring(arcs, indices) if -60 < lon < 80 and lat > 20
                    ]
                    clipped = clip(projected, x0, y0, x1, y1)
                    if len(clipped) < 3:
                        continue
                    # SVG's y grows downwards.
                    svg = [((x - x0) * SCALE, (y1 - y) * SCALE) for x, y in clipped]
                    shapes.setdefault(code, []).append(simplify(svg + [svg[0]], TOLERANCE)[:-1])
        out = []
        for code, rings in sorted(shapes.items()):
            rings = [r for r in rings if len(r) >= 3]
            kept = [r for r in rings if area(r) >= MIN_AREA] or sorted(rings, key=area)[-1:]
            if kept:
                out.append({"code": code, "d": path(kept)})
        data = {
            "source": "Natural Earth 1:50m admin 0 countries (public domain), via world-atlas 2.0.2",
            "width": round(width),
            "height": round(height),
            "countries": out,
        }
        MAP_PATH.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        self.stdout.write(f"{len(out)} countries, {MAP_PATH.stat().st_size / 1024:.0f} KB -> {MAP_PATH}")
